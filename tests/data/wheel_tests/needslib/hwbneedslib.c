#define PY_SSIZE_T_CLEAN
#include <Python.h>

int hwb_helper_value(void);

static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong(hwb_helper_value()); }

static PyMethodDef methods[] = {{"value", value, METH_NOARGS, "From the helper."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "hwbneedslib", NULL, -1, methods};

PyMODINIT_FUNC PyInit_hwbneedslib(void) { return PyModule_Create(&module); }
