/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (`make fuzz`).
 * Byte 0 picks the options (separator, header, skip, non-finite values,
 * dtype); the rest is the file, read through ln_read_text (so gzip input
 * is inflated too), scanned and parsed.
 */
#include "memfile.h" /* first: it defines _GNU_SOURCE */

#include <stdlib.h>

#include "../csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const int seps[4] = {',', '\t', ' ', 0};
    ln_csv_opts o = {seps[data[0] & 3], (data[0] >> 2) & 1, (data[0] >> 3) & 3, (data[0] >> 5) & 1};
    ln_dtype dt = (data[0] >> 6) & 1 ? LN_F64 : LN_F32;
    data++;
    size--;
    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    char *text;
    size_t len;
    ln_error err;
    if (ln_read_text(path, (size_t)1 << 24, &text, &len, &err) == LN_OK) {
        ln_csv_layout lay;
        if (ln_csv_scan(text, len, &o, &lay, &err) == LN_OK &&
            (uint64_t)lay.rows * (uint64_t)lay.cols <= ((uint64_t)1 << 24)) {
            void *dst = malloc((size_t)(lay.rows * lay.cols) * ln_dtype_size(dt));
            if (dst) ln_csv_parse(text, len, &o, &lay, dt, dst, &err);
            free(dst);
        }
        free(text);
    }
    close(fd);
    return 0;
}
