/* zlib (gzip) and liblzma (xz) for reading compressed traces directly. */
#ifndef CCOMPRESSION_SHIM_H
#define CCOMPRESSION_SHIM_H
#include <zlib.h>
#include <lzma.h>
#endif
