/* Links libcuda.so.1 (a driver library the machine provides) and libyaml (bundled). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int cuInit(unsigned int flags);
int hwbt_yaml_major(void);

static PyObject *init(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(ii)", cuInit(0), hwbt_yaml_major());
}

static PyMethodDef methods[] = {{"init", init, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cuda", NULL, -1, methods};

PyMODINIT_FUNC PyInit__cuda(void) { return PyModule_Create(&module); }
