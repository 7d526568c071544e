/* A stand-in for the NVIDIA driver's libcuda.so.1: one function, built with that soname. */
int cuInit(unsigned int flags) { return (int)flags; }
