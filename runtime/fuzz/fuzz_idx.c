/*
 * fuzz_idx.c - libFuzzer harness for the IDX reader (`make fuzz`).
 * The input becomes a file (memfd) read through the real path: header
 * checks, size checks, gzip detection and inflation, decoding.
 */
#include "memfile.h" /* first: it defines _GNU_SOURCE */

#include <stdlib.h>

#include "../idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ln_idx_header h;
    ln_error err;
    ln_idx_parse_header(data, size, (size_t)1 << 26, &h, &err);

    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    ln_idx_reader *r;
    /* a 64 MiB cap keeps the harness's own allocations bounded */
    if (ln_idx_open(path, (size_t)1 << 26, &r, &h, &err) == LN_OK) {
        void *buf = malloc(h.numel ? (size_t)h.numel * ln_dtype_size(h.dtype) : 1);
        if (buf) ln_idx_read(r, buf, &err);
        free(buf);
        ln_idx_close(r);
    }
    close(fd);
    return 0;
}
