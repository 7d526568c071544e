from cudaext._cuda import init
