/*
 * csv.h - numeric text tables: comma, tab, space or any-whitespace
 * separated, an optional header line, skipped lines; locale-independent.
 *
 * Two passes over text in memory: ln_csv_scan finds the table's shape (and
 * reports ragged rows), the caller allocates rows*cols elements, then
 * ln_csv_parse converts every cell, reporting the 1-based line and column of
 * the first cell that is not a number.  Blank lines are skipped; a line may
 * end in \r\n; a cell may be wrapped in double quotes.
 */
#ifndef LN_CSV_H
#define LN_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

typedef struct ln_csv_opts {
    int sep;             /* separator byte, or 0 for any run of spaces and tabs */
    int header;          /* the first line (after skip) holds column names */
    int64_t skip;        /* lines ignored at the start */
    int allow_nonfinite; /* accept nan, inf, infinity (any case, signed) */
} ln_csv_opts;

typedef struct ln_csv_layout {
    int64_t rows, cols;
    size_t header_at, header_len; /* the header line, when opts.header */
} ln_csv_layout;

/* The cells of one line. */
typedef struct ln_csv_cells {
    const char *p, *end;
    int sep;
    int done;
} ln_csv_cells;

void ln_csv_cells_init(ln_csv_cells *c, const char *line, size_t len, int sep);
/* Next cell (surrounding blanks and one pair of double quotes removed):
 * returns 1 and sets cell/n, or 0 after the last cell. */
int ln_csv_next_cell(ln_csv_cells *c, const char **cell, size_t *n);

ln_status ln_csv_scan(const char *buf, size_t len, const ln_csv_opts *o, ln_csv_layout *lay,
                      ln_error *err);
/* Fill dst (lay->rows * lay->cols elements of dt, a float dtype). */
ln_status ln_csv_parse(const char *buf, size_t len, const ln_csv_opts *o, const ln_csv_layout *lay,
                       ln_dtype dt, void *dst, ln_error *err);

/* Read a whole file (gzip detected by its magic; a name ending in .gz must
 * be gzip) into a malloc'd buffer of at most cap bytes, NUL-terminated.
 * The caller frees *buf. */
ln_status ln_read_text(const char *path, size_t cap, char **buf, size_t *len, ln_error *err);

#endif
