/* arc4random arrived in glibc 2.36: the extension needs GLIBC_2.36 and cannot be manylinux_2_28. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

static PyObject *random_(PyObject *self, PyObject *unused) {
    return PyLong_FromUnsignedLong(arc4random());
}

static PyMethodDef methods[] = {{"random", random_, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_arc4", NULL, -1, methods};

PyMODINIT_FUNC PyInit__arc4(void) { return PyModule_Create(&module); }
