/*
 * fuzz_csv.c - libFuzzer harness for the CSV reader (`make fuzz`).
 * Byte 0 picks the options (separator, header, skip, non-finite values,
 * dtype), byte 1 the pandas ones (on_bad_lines, nrows, a usecols pattern);
 * the rest is the file, read through ln_read_text (so gzip input is
 * inflated too), scanned and parsed.
 *
 * Beyond memory safety it checks two promises, aborting when one breaks:
 * the bad-line callback runs once per dropped line, and a parse that
 * succeeds writes every element (dst starts as a NaN bit pattern the
 * reader never produces).
 */
#include "memfile.h" /* first: it defines _GNU_SOURCE */

#include <stdlib.h>
#include <string.h>

#include "../csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_bad(void *ctx, int64_t line, int64_t expected, int64_t saw)
{
    if (line < 1 || saw == expected) abort(); /* a ragged line: short or long */
    ++*(int64_t *)ctx;
}

/* The kept columns for pattern p (1..7) of a table of cols columns, into
 * use (room for 4); returns their count, 0 for none.  Pattern 7 asks for a
 * column past the table, which ln_csv_parse must refuse. */
static int64_t usecols_pattern(int p, int64_t cols, int64_t *use)
{
    int64_t n = 0;
    switch (p) {
    case 1: use[n++] = 0; break;
    case 2: use[n++] = cols - 1; break;
    case 3:
        use[n++] = 0;
        if (cols > 1) use[n++] = cols - 1;
        break;
    case 4:
        if (cols > 1) use[n++] = 1;
        break;
    case 5:
        for (int64_t j = 0; j < cols && n < 4; j += 2) use[n++] = j;
        break;
    case 6:
        for (int64_t j = 0; j < cols && n < 3; j++) use[n++] = j;
        break;
    case 7: use[n++] = cols; break;
    default: break;
    }
    return n;
}

static const uint32_t SENTINEL32 = 0x7fa00001u;
static const uint64_t SENTINEL64 = 0x7ff4000000000001ull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const int seps[4] = {',', '\t', ' ', 0};
    static const int64_t nrows[8] = {-1, 0, 1, 2, 3, 5, 100, -1};
    int64_t dropped = 0;
    ln_csv_opts o = {
        .sep = seps[data[0] & 3],
        .header = (data[0] >> 2) & 1,
        .skip = (data[0] >> 3) & 3,
        .allow_nonfinite = (data[0] >> 5) & 1,
        .nrows = nrows[(data[1] >> 2) & 7],
        .skip_bad = (data[1] & 3) == 1 || (data[1] & 3) == 2,
        .on_bad = (data[1] & 3) == 2 ? count_bad : NULL,
        .on_bad_ctx = &dropped,
    };
    ln_dtype dt = (data[0] >> 6) & 1 ? LN_F64 : LN_F32;
    int pattern = data[1] >> 5;
    data += 2;
    size -= 2;
    char path[64];
    int fd = memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    char *text;
    size_t len;
    ln_error err;
    if (ln_read_text(path, (size_t)1 << 24, &text, &len, &err) == LN_OK) {
        ln_csv_layout lay;
        if (ln_csv_scan(text, len, &o, &lay, &err) == LN_OK) {
            if (lay.rows < 0 || lay.cols < 1 || (o.nrows >= 0 && lay.rows > o.nrows)) abort();
            if (o.on_bad && dropped != lay.dropped) abort();
            int64_t use[4];
            int64_t width = lay.cols;
            if (pattern) {
                o.nusecols = usecols_pattern(pattern, lay.cols, use);
                o.usecols = use;
                width = o.nusecols;
            }
            size_t es = ln_dtype_size(dt);
            if ((uint64_t)lay.rows * (uint64_t)width <= ((uint64_t)1 << 24)) {
                size_t count = (size_t)(lay.rows * width);
                unsigned char *dst = (unsigned char *)malloc(count * es + 1);
                if (dst) {
                    for (size_t i = 0; i < count; i++) {
                        if (dt == LN_F32) memcpy(dst + i * es, &SENTINEL32, es);
                        else memcpy(dst + i * es, &SENTINEL64, es);
                    }
                    ln_status st = ln_csv_parse(text, len, &o, &lay, dt, dst, &err);
                    int refused = pattern == 7 || (pattern && width == 0);
                    if (refused && st != LN_EARG) abort();
                    for (size_t i = 0; st == LN_OK && i < count; i++) {
                        if (dt == LN_F32 ? memcmp(dst + i * es, &SENTINEL32, es) == 0
                                         : memcmp(dst + i * es, &SENTINEL64, es) == 0)
                            abort();
                    }
                    free(dst);
                }
            }
        }
        free(text);
    }
    close(fd);
    return 0;
}
