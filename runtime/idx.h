/*
 * idx.h - IDX files (MNIST's format), raw or gzip-compressed.
 *
 * Layout (SEMANTICS.md): two zero bytes, a type byte, a dims byte, one
 * big-endian uint32 per dim, then the elements, row-major, big-endian.
 * Loaded dtypes: uint8 -> uint8; int8, int16, int32 -> int32 (exact);
 * float32 -> float32; float64 -> float64.
 *
 * Reading is two-phase so that the caller allocates the result (in lunet,
 * a Lua userdata): ln_idx_open checks the header and the file's size, then
 * ln_idx_read fills caller memory.  A file is treated as hostile: nothing
 * is allocated from what the header claims before the claim is checked
 * against the file (raw: exact size; gzip: the most deflate can expand),
 * and a gzip stream is inflated only up to the declared size (+1 byte to
 * detect trailing data).
 */
#ifndef LN_IDX_H
#define LN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

enum {
    LN_IDX_U8 = 0x08,
    LN_IDX_I8 = 0x09,
    LN_IDX_I16 = 0x0B,
    LN_IDX_I32 = 0x0C,
    LN_IDX_F32 = 0x0D,
    LN_IDX_F64 = 0x0E
};

#define LN_IDX_MAX_DIMS 8
/* Default cap on the decompressed data (bytes). */
#define LN_IDX_DEFAULT_CAP ((size_t)4 << 30)

typedef struct ln_idx_header {
    int type;                 /* IDX type byte */
    int ndim;
    int64_t shape[LN_IDX_MAX_DIMS];
    int64_t numel;
    size_t header_bytes;      /* 4 + 4*ndim */
    size_t data_bytes;        /* numel * file element size */
    ln_dtype dtype;           /* what the data loads as */
} ln_idx_header;

/* Bytes of one element of IDX type `type`; 0 for an unknown type. */
size_t ln_idx_type_size(int type);
/* "uint8", "int8", ...; NULL for an unknown type. */
const char *ln_idx_type_name(int type);
/* The type byte for a name, or -1. */
int ln_idx_type_from_name(const char *name);

/* Parse a header from the first n bytes of p.  LN_EFORMAT for a short or
 * invalid header, LN_ETOOBIG when the data would exceed cap bytes (in the
 * loaded dtype) or overflow. */
ln_status ln_idx_parse_header(const unsigned char *p, size_t n, size_t cap, ln_idx_header *h,
                              ln_error *err);
/* Convert `count` big-endian elements of `type` at the start of buf into
 * the loaded dtype, in place (buf holds count * sizeof(loaded dtype)). */
void ln_idx_decode_inplace(int type, void *buf, size_t count);

typedef struct ln_idx_reader ln_idx_reader;

/* Open path (gzip detected by its magic; a name ending in .gz must be
 * gzip), parse and check the header. */
ln_status ln_idx_open(const char *path, size_t cap, ln_idx_reader **r, ln_idx_header *h,
                      ln_error *err);
/* Read the data into dst (h->numel elements of h->dtype), then make sure
 * nothing follows it. */
ln_status ln_idx_read(ln_idx_reader *r, void *dst, ln_error *err);
void ln_idx_close(ln_idx_reader *r);

/* Write a contiguous tensor as IDX type `type` (its values must fit:
 * checked, LN_ERANGE naming the first element that does not) to path,
 * gzip-compressed at `level` (1-9) when level > 0.  Writes path.tmp then
 * renames it, so a failure leaves no partial file. */
ln_status ln_idx_write(const char *path, const ln_tensor *t, int type, int level, ln_error *err);

#endif
