/*
 * fileio.h - opening an input file for the loaders (IDX, CSV): the checks
 * every loader makes (a regular, non-empty file; gzip recognised by its
 * magic, and a name ending in .gz must be gzip) and reads that work the
 * same on raw and gzip data.
 */
#ifndef LN_FILEIO_H
#define LN_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "tensor.h"

typedef struct ln_gz ln_gz; /* a gzip reader (fileio.c) */

typedef struct ln_input {
    int fd;       /* raw file, or -1 once handed to gz */
    ln_gz *gz;    /* gzip stream, or NULL */
    int64_t size; /* bytes of the file on disk */
} ln_input;

ln_status ln_input_open(const char *path, ln_input *in, ln_error *err);
/* Read up to n bytes into buf (fewer only at the end of the data);
 * corrupt or truncated gzip data, anything but another gzip member after a
 * member ("trailing garbage after gzip data") and read errors are errors. */
ln_status ln_input_read(ln_input *in, void *buf, size_t n, size_t *got, ln_error *err);
/* After a short read of gzip data that ended cleanly: "truncated gzip data";
 * `what` names the part (e.g. "the data"), got/want its bytes. */
ln_status ln_input_gz_short(ln_input *in, const char *what, size_t got, size_t want, ln_error *err);
void ln_input_close(ln_input *in);

/* The whole of a regular file, raw bytes (no gunzip), at most `cap` bytes:
 * *out is malloc'd (NUL-terminated, caller frees), *len its size. */
ln_status ln_read_file(const char *path, size_t cap, char **out, size_t *len, ln_error *err);
/* Write parts[0..nparts) (lens[i] bytes each) to `tmp`, fsync it, and
 * rename it over `path`, then fsync path's directory.  `tmp` is created
 * fresh (O_EXCL): a stale or planted file or symlink there is removed, never
 * followed.  On any failure `tmp` is removed, a file at `path` is left as
 * it was, and err holds the OS reason. */
ln_status ln_write_atomic(const char *path, const char *tmp, size_t nparts, const char *const *parts,
                          const size_t *lens, ln_error *err);
/* What a path is, without opening it: "file", "directory", "fifo",
 * "character device", "block device", "socket", "other"; NULL when stat
 * fails (errno tells why). */
const char *ln_path_kind(const char *path);

#endif
