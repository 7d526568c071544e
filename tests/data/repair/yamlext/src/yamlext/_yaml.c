/* Calls into libyaml, so the extension's NEEDED names libyaml-0.so.2. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <yaml.h>

static PyObject *libyaml_version(PyObject *self, PyObject *unused) {
    int major, minor, patch;
    yaml_get_version(&major, &minor, &patch);
    return Py_BuildValue("(iii)", major, minor, patch);
}

static PyMethodDef methods[] = {
    {"libyaml_version", libyaml_version, METH_NOARGS, "libyaml's version, as a tuple."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_yaml", NULL, -1, methods};

PyMODINIT_FUNC PyInit__yaml(void) { return PyModule_Create(&module); }
