/*
 * idx.c - IDX reader and writer (see idx.h), raw or gzip through zlib.
 */
#include "idx.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* deflate expands at most 1032:1; add room for gzip headers and members */
#define GZ_MAX_RATIO 1032u
#define GZ_SLACK 4096u
#define IO_CHUNK ((size_t)1 << 30)

size_t ln_idx_type_size(int type)
{
    switch (type) {
    case LN_IDX_U8:
    case LN_IDX_I8: return 1;
    case LN_IDX_I16: return 2;
    case LN_IDX_I32:
    case LN_IDX_F32: return 4;
    case LN_IDX_F64: return 8;
    default: return 0;
    }
}

const char *ln_idx_type_name(int type)
{
    switch (type) {
    case LN_IDX_U8: return "uint8";
    case LN_IDX_I8: return "int8";
    case LN_IDX_I16: return "int16";
    case LN_IDX_I32: return "int32";
    case LN_IDX_F32: return "float32";
    case LN_IDX_F64: return "float64";
    default: return NULL;
    }
}

int ln_idx_type_from_name(const char *name)
{
    static const int types[] = {LN_IDX_U8, LN_IDX_I8, LN_IDX_I16, LN_IDX_I32, LN_IDX_F32, LN_IDX_F64};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, ln_idx_type_name(types[i])) == 0) return types[i];
    return -1;
}

static ln_dtype loaded_dtype(int type)
{
    switch (type) {
    case LN_IDX_U8: return LN_U8;
    case LN_IDX_F32: return LN_F32;
    case LN_IDX_F64: return LN_F64;
    default: return LN_I32;
    }
}

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

ln_status ln_idx_parse_header(const unsigned char *p, size_t n, size_t cap, ln_idx_header *h,
                              ln_error *err)
{
    if (n < 4) return ln_fail(err, LN_EFORMAT, "header shorter than 4 bytes (%zu bytes)", n);
    if (p[0] != 0 || p[1] != 0)
        return ln_fail(err, LN_EFORMAT,
                       "wrong magic %02x %02x %02x %02x (an IDX file starts 00 00 <type> <dims>)",
                       p[0], p[1], p[2], p[3]);
    size_t esize = ln_idx_type_size(p[2]);
    if (esize == 0)
        return ln_fail(err, LN_EFORMAT,
                       "unknown type byte 0x%02x (known: 08 uint8, 09 int8, 0b int16, "
                       "0c int32, 0d float32, 0e float64)", p[2]);
    int ndim = p[3];
    if (ndim < 1 || ndim > LN_IDX_MAX_DIMS)
        return ln_fail(err, LN_EFORMAT, "%d dims (an IDX file has 1 to %d)", ndim,
                       LN_IDX_MAX_DIMS);
    size_t hb = 4 + 4 * (size_t)ndim;
    if (n < hb)
        return ln_fail(err, LN_EFORMAT, "header of %zu bytes is shorter than its %d dims need (%zu)",
                       n, ndim, hb);
    h->type = p[2];
    h->ndim = ndim;
    h->header_bytes = hb;
    h->dtype = loaded_dtype(h->type);
    for (int i = 0; i < ndim; i++) h->shape[i] = be32(p + 4 + 4 * (size_t)i);
    ln_status st = ln_shape_numel(ndim, h->shape, ln_dtype_size(h->dtype), cap, &h->numel);
    if (st != LN_OK) {
        char dims[LN_IDX_MAX_DIMS * 12 + 4];
        size_t k = 0;
        for (int i = 0; i < ndim; i++)
            k += (size_t)snprintf(dims + k, sizeof dims - k, "%s%lld", i ? "x" : "",
                                  (long long)h->shape[i]);
        return ln_fail(err, LN_ETOOBIG, "dims %s exceed the cap of %zu bytes", dims, cap);
    }
    h->data_bytes = (size_t)h->numel * esize;
    return LN_OK;
}

/* Big-endian signed integers of `width` bytes (1 or 2) to int32, in
 * place: from the end, so element i moves from byte width*i to 4i before
 * anything overwrites it. */
static void widen_be(unsigned char *b, size_t count, size_t width)
{
    for (size_t i = count; i-- > 0;) {
        const unsigned char *e = b + width * i;
        int32_t v = width == 1 ? (int8_t)e[0] : (int16_t)(uint16_t)(((unsigned)e[0] << 8) | e[1]);
        memcpy(b + 4 * i, &v, 4);
    }
}

/* Reverse the bytes of each element of `width` bytes (4 or 8), in place. */
static void swap_be(unsigned char *b, size_t count, size_t width)
{
    for (size_t i = 0; i < count; i++, b += width) {
        if (width == 4) {
            uint32_t v;
            memcpy(&v, b, 4);
            v = __builtin_bswap32(v);
            memcpy(b, &v, 4);
        } else {
            uint64_t v;
            memcpy(&v, b, 8);
            v = __builtin_bswap64(v);
            memcpy(b, &v, 8);
        }
    }
}

void ln_idx_decode_inplace(int type, void *buf, size_t count)
{
    unsigned char *b = (unsigned char *)buf;
    switch (type) {
    case LN_IDX_I8: widen_be(b, count, 1); break;
    case LN_IDX_I16: widen_be(b, count, 2); break;
    case LN_IDX_I32:
    case LN_IDX_F32: swap_be(b, count, 4); break;
    case LN_IDX_F64: swap_be(b, count, 8); break;
    default: break; /* uint8: nothing to do */
    }
}

/* ---- reading ----------------------------------------------------------------- */

struct ln_idx_reader {
    ln_input in;
    ln_idx_header h;
};

void ln_idx_close(ln_idx_reader *r)
{
    if (r == NULL) return;
    ln_input_close(&r->in);
    free(r);
}

ln_status ln_idx_open(const char *path, size_t cap, ln_idx_reader **out, ln_idx_header *h,
                      ln_error *err)
{
    *out = NULL;
    ln_idx_reader *r = (ln_idx_reader *)calloc(1, sizeof *r);
    if (r == NULL) return ln_fail(err, LN_ENOMEM, "out of memory");
    ln_status st = ln_input_open(path, &r->in, err);
    if (st != LN_OK) {
        free(r);
        return st;
    }
    /* the fixed 4 bytes, then the dims they announce (parse_header judges both) */
    unsigned char hb[4 + 4 * LN_IDX_MAX_DIMS];
    size_t got, more = 0;
    if ((st = ln_input_read(&r->in, hb, 4, &got, err)) != LN_OK) goto fail;
    if (got == 4 && hb[3] <= LN_IDX_MAX_DIMS &&
        (st = ln_input_read(&r->in, hb + 4, 4 * (size_t)hb[3], &more, err)) != LN_OK)
        goto fail;
    if ((st = ln_idx_parse_header(hb, got + more, cap, h, err)) != LN_OK) goto fail;
    size_t total = h->header_bytes + h->data_bytes; /* cannot overflow: data <= cap */
    if (r->in.gz == NULL) {
        size_t have = (size_t)r->in.size - h->header_bytes;
        if (have < h->data_bytes) {
            st = ln_fail(err, LN_EFORMAT,
                         "truncated: the header declares %zu data bytes, the file has %zu",
                         h->data_bytes, have);
            goto fail;
        }
        if (have > h->data_bytes) {
            st = ln_fail(err, LN_EFORMAT, "%zu trailing bytes after the %zu declared data bytes",
                         have - h->data_bytes, h->data_bytes);
            goto fail;
        }
    } else if ((uint64_t)r->in.size * GZ_MAX_RATIO + GZ_SLACK < (uint64_t)total) {
        st = ln_fail(err, LN_EFORMAT,
                     "a gzip file of %lld bytes cannot hold the %zu bytes its header declares "
                     "(truncated?)", (long long)r->in.size, total);
        goto fail;
    }
    r->h = *h;
    *out = r;
    return LN_OK;
fail:
    ln_idx_close(r);
    return st;
}

ln_status ln_idx_read(ln_idx_reader *r, void *dst, ln_error *err)
{
    size_t got;
    ln_status st = ln_input_read(&r->in, dst, r->h.data_bytes, &got, err);
    if (st != LN_OK) return st;
    if (got < r->h.data_bytes) {
        if (r->in.gz) return ln_input_gz_short(&r->in, "the data", got, r->h.data_bytes, err);
        return ln_fail(err, LN_EFORMAT, "truncated: %zu of %zu data bytes", got,
                       r->h.data_bytes);
    }
    /* one more byte: detects trailing data, and makes zlib check the CRC */
    unsigned char extra;
    size_t k;
    if ((st = ln_input_read(&r->in, &extra, 1, &k, err)) != LN_OK) return st;
    if (k > 0)
        return ln_fail(err, LN_EFORMAT, "trailing data after the %zu declared data bytes",
                       r->h.data_bytes);
    ln_idx_decode_inplace(r->h.type, dst, (size_t)r->h.numel);
    return LN_OK;
}

/* ---- writing ----------------------------------------------------------------- */

static double elem_value(const ln_tensor *t, size_t i)
{
    const char *p = (const char *)t->data;
    switch (t->dtype) {
    case LN_F32: return ((const float *)p)[i];
    case LN_F64: return ((const double *)p)[i];
    case LN_I32: return ((const int32_t *)p)[i];
    case LN_U8: return ((const uint8_t *)p)[i];
    case LN_I64: return (double)((const int64_t *)p)[i];
    }
    return 0;
}

static int fits(double v, int type)
{
    switch (type) {
    case LN_IDX_U8: return v == floor(v) && v >= 0 && v <= 255;
    case LN_IDX_I8: return v == floor(v) && v >= -128 && v <= 127;
    case LN_IDX_I16: return v == floor(v) && v >= -32768 && v <= 32767;
    case LN_IDX_I32: return v == floor(v) && v >= -2147483648.0 && v <= 2147483647.0;
    default: return 1;
    }
}

static void encode(double v, int type, unsigned char *o)
{
    switch (type) {
    case LN_IDX_U8:
    case LN_IDX_I8: o[0] = (unsigned char)(int)v; break;
    case LN_IDX_I16: {
        uint16_t u = (uint16_t)(int16_t)v;
        o[0] = (unsigned char)(u >> 8);
        o[1] = (unsigned char)u;
        break;
    }
    case LN_IDX_I32:
    case LN_IDX_F32: {
        uint32_t u;
        if (type == LN_IDX_I32) {
            u = (uint32_t)(int32_t)v;
        } else {
            float f = (float)v;
            memcpy(&u, &f, 4);
        }
        for (int k = 0; k < 4; k++) o[k] = (unsigned char)(u >> (24 - 8 * k));
        break;
    }
    case LN_IDX_F64: {
        uint64_t u;
        memcpy(&u, &v, 8);
        for (int k = 0; k < 8; k++) o[k] = (unsigned char)(u >> (56 - 8 * k));
        break;
    }
    default: break;
    }
}

typedef struct sink {
    int fd;
    gzFile gz;
} sink;

static int sink_write(sink *s, const void *p, size_t n)
{
    if (s->gz) {
        while (n > 0) {
            unsigned k = n < IO_CHUNK ? (unsigned)n : (unsigned)IO_CHUNK;
            if (gzwrite(s->gz, p, k) != (int)k) return -1;
            p = (const char *)p + k;
            n -= k;
        }
        return 0;
    }
    while (n > 0) {
        ssize_t k = write(s->fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p = (const char *)p + k;
        n -= (size_t)k;
    }
    return 0;
}

ln_status ln_idx_write(const char *path, const ln_tensor *t, int type, int level, ln_error *err)
{
    size_t esize = ln_idx_type_size(type);
    if (esize == 0) return ln_fail(err, LN_EARG, "unknown IDX type 0x%02x", type);
    if (t->ndim < 1 || t->ndim > LN_IDX_MAX_DIMS)
        return ln_fail(err, LN_EARG, "an IDX file holds 1 to %d dims, the tensor has %d",
                       LN_IDX_MAX_DIMS, t->ndim);
    if (!ln_is_contiguous(t)) return ln_fail(err, LN_EARG, "the tensor must be contiguous");
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] > (int64_t)UINT32_MAX)
            return ln_fail(err, LN_ERANGE, "dim %d of size %lld does not fit IDX's uint32", i + 1,
                           (long long)t->shape[i]);
    size_t n = (size_t)ln_numel(t);
    int copy_u8 = t->dtype == LN_U8 && type == LN_IDX_U8;
    if (!copy_u8)
        for (size_t i = 0; i < n; i++)
            if (!fits(elem_value(t, i), type))
                return ln_fail(err, LN_ERANGE, "element %zu (%.17g) does not fit %s", i + 1,
                               elem_value(t, i), ln_idx_type_name(type));

    size_t plen = strlen(path);
    char *tmp = (char *)malloc(plen + 5);
    unsigned char *buf = (unsigned char *)malloc(1 << 16);
    if (tmp == NULL || buf == NULL) {
        free(tmp);
        free(buf);
        return ln_fail(err, LN_ENOMEM, "out of memory");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    ln_status st = LN_OK;
    sink s = {open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), NULL};
    if (s.fd < 0) {
        st = ln_fail(err, LN_EIO, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (level > 0) {
        char mode[8];
        snprintf(mode, sizeof mode, "wb%d", level > 9 ? 9 : level);
        s.gz = gzdopen(s.fd, mode);
        if (s.gz == NULL) {
            close(s.fd);
            st = ln_fail(err, LN_ENOMEM, "cannot start zlib");
            goto fail;
        }
        gzbuffer(s.gz, 1 << 17);
    }
    unsigned char hdr[4 + 4 * LN_IDX_MAX_DIMS] = {0, 0, (unsigned char)type,
                                                  (unsigned char)t->ndim};
    for (int i = 0; i < t->ndim; i++)
        for (int k = 0; k < 4; k++)
            hdr[4 + 4 * i + k] = (unsigned char)((uint64_t)t->shape[i] >> (24 - 8 * k));
    int bad = sink_write(&s, hdr, 4 + 4 * (size_t)t->ndim);
    if (copy_u8) {
        if (!bad) bad = sink_write(&s, t->data, n);
    } else {
        size_t per = (1 << 16) / esize;
        for (size_t i = 0; i < n && !bad; i += per) {
            size_t m = n - i < per ? n - i : per;
            for (size_t j = 0; j < m; j++) encode(elem_value(t, i + j), type, buf + j * esize);
            bad = sink_write(&s, buf, m * esize);
        }
    }
    int e = errno;
    int closed = s.gz ? gzclose(s.gz) == Z_OK : close(s.fd) == 0;
    if (bad || !closed) {
        st = ln_fail(err, LN_EIO, "cannot write %s: %s", tmp, strerror(bad ? e : errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        st = ln_fail(err, LN_EIO, "cannot rename %s: %s", tmp, strerror(errno));
        goto fail;
    }
    goto out;
fail:
    unlink(tmp);
out:
    free(tmp);
    free(buf);
    return st;
}
