#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* triangle(n): 0 + 1 + ... + n, computed in C. */
static PyObject *triangle(PyObject *self, PyObject *args) {
    long long n, total = 0;
    if (!PyArg_ParseTuple(args, "L", &n)) {
        return NULL;
    }
    for (long long i = 1; i <= n; i++) {
        total += i;
    }
    return PyLong_FromLongLong(total);
}

/* abi_version(): the "major.minor" of the headers this module was compiled against. */
static PyObject *abi_version(PyObject *self, PyObject *unused) {
    return PyUnicode_FromFormat("%d.%d", PY_MAJOR_VERSION, PY_MINOR_VERSION);
}

static PyMethodDef methods[] = {
    {"triangle", triangle, METH_VARARGS, "Sum of 0..n."},
    {"abi_version", abi_version, METH_NOARGS, "Python version of the headers used."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
