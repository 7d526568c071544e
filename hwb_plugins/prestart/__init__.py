"""The backend process started ahead: a repeated ``hwb build`` starts its backend's interpreter
while hwb itself is still starting.

A warm rebuild spends about as long starting hwb (imports, plugins, configuration) as running
the backend. When a ``hwb build`` on the host ran its backend through the core's driver
(``hwb_core/_driver/hook_driver.py``) in an isolation asked for by name (``auto`` may choose a
container next time), the driver lists the modules the hooks imported, and this plugin keeps a
*plan*: the interpreter, the driver, the backend's ``[tool.hwb.env]`` rule and the variables the
build set, and those modules, under a key made of everything the configuration comes from
(:func:`ahead._plan_path`), in a directory of this user's alone. The next such ``hwb build``
starts that interpreter as its very first act (:func:`ahead.begin`, the ``hwb.early`` entry
point, called before hwb imports anything of weight), with the variables the backend will get,
computed as the build computes them (credentials withheld), and it imports the modules while hwb
works out what to build. When the build's environment then asks to run the driver (the
``backend_process`` hook), it gets the waiting process if that process is the one it would have
started: the same interpreter, the same driver, exactly the same environment variables, and an
environment not made again or installed into in the meantime; else the waiting process is
stopped unused (it has only imported modules). The waiting process itself starts afresh
(``exec``) when it cannot be told from a new one: its imports warned, shadow the project's or
``backend-path``'s modules, or their files changed. The hooks run only with the real request, in
the real working directory.

The hooks (:mod:`.hooks`): ``build_work_dir`` (the temporary directory the process was started
for), ``backend_process`` (the waiting process), ``backend_imported`` (the plan for next time)
and a wrapper of ``select_isolation`` (``auto`` chose: no plan). Blocked (``-p no:prestart``),
builds are the same, without the head start. ``HWB_NO_PRESTART=1`` turns it off too.

This package's ``__init__`` imports nothing: the early entry point must cost no more than the
process it starts."""
