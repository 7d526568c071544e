/* Multi-phase initialisation (PEP 489): on a free-threaded CPython the module says it does
   not need the GIL (Py_mod_gil), so importing it leaves the GIL off. */
#include <Python.h>

static PyObject *square(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return NULL;
    return PyLong_FromLong(n * n);
}

static PyMethodDef methods[] = {
    {"square", square, METH_O, "n * n, computed in C."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "gilfree", NULL, 0, methods, slots};

PyMODINIT_FUNC PyInit_gilfree(void) { return PyModuleDef_Init(&module); }
