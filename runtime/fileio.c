/*
 * fileio.c - input files for the loaders (see fileio.h).
 */
#include "fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* read() and gzread() take at most this much at a time */
#define IO_CHUNK ((size_t)1 << 30)

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- gzip ------------------------------------------------------------------
 *
 * Read with inflate directly, not gzread: gzread silently drops whatever
 * follows the last gzip member, so garbage appended to a file (a botched
 * download, two files glued together by mistake) loaded as if it were not
 * there.  Members are read one after another, as `gzip -d` reads the output
 * of `cat a.gz b.gz`; after a member ends, the next bytes must start another
 * member (1f 8b) or be the end of the file. */

#define GZ_IN_CHUNK ((size_t)1 << 17)

struct ln_gz {
    z_stream zs;
    int fd;
    int eof;       /* read() has returned 0 */
    int done;      /* the last member ended exactly at the end of the file */
    int64_t nread; /* bytes read from the file so far */
    unsigned char buf[GZ_IN_CHUNK];
};

static void gz_close(ln_gz *g)
{
    inflateEnd(&g->zs);
    close(g->fd);
    free(g);
}

void ln_input_close(ln_input *in)
{
    if (in->gz) gz_close(in->gz);
    else if (in->fd >= 0) close(in->fd);
    in->gz = NULL;
    in->fd = -1;
}

/* Top up the input buffer, keeping the bytes inflate has not consumed. */
static ln_status gz_fill(ln_gz *g, ln_error *err)
{
    size_t keep = g->zs.avail_in;
    if (keep && g->zs.next_in != g->buf) memmove(g->buf, g->zs.next_in, keep);
    ssize_t k;
    do k = read(g->fd, g->buf + keep, sizeof g->buf - keep);
    while (k < 0 && errno == EINTR);
    if (k < 0) return ln_fail(err, LN_EIO, "read error: %s", strerror(errno));
    if (k == 0) g->eof = 1;
    g->nread += k;
    g->zs.next_in = g->buf;
    g->zs.avail_in = (uInt)(keep + (size_t)k);
    return LN_OK;
}

/* A member has ended: the file ends here, or another member starts. */
static ln_status gz_next_member(ln_gz *g, ln_error *err)
{
    ln_status st;
    while (g->zs.avail_in < 2 && !g->eof)
        if ((st = gz_fill(g, err)) != LN_OK) return st;
    if (g->zs.avail_in == 0) {
        g->done = 1;
        return LN_OK;
    }
    if (g->zs.avail_in < 2 || g->zs.next_in[0] != 0x1f || g->zs.next_in[1] != 0x8b) {
        int64_t at = g->nread - (int64_t)g->zs.avail_in;
        return ln_fail(err, LN_EFORMAT,
                       "trailing garbage after gzip data (at byte %lld: no further gzip member)",
                       (long long)at);
    }
    if (inflateReset(&g->zs) != Z_OK) return ln_fail(err, LN_EFORMAT, "zlib cannot restart");
    return LN_OK;
}

static ln_status gz_read(ln_gz *g, char *buf, size_t n, size_t *got, ln_error *err)
{
    ln_status st;
    while (*got < n && !g->done) {
        if (g->zs.avail_in == 0) {
            if (g->eof) return ln_fail(err, LN_EFORMAT, "truncated gzip data (unexpected end of file)");
            if ((st = gz_fill(g, err)) != LN_OK) return st;
            continue;
        }
        size_t want = n - *got < UINT_MAX ? n - *got : UINT_MAX;
        g->zs.next_out = (unsigned char *)buf + *got;
        g->zs.avail_out = (uInt)want;
        int z = inflate(&g->zs, Z_NO_FLUSH);
        *got += want - g->zs.avail_out;
        switch (z) {
        case Z_OK:
        case Z_BUF_ERROR: /* needs more input: the loop reads it */
            break;
        case Z_STREAM_END:
            if ((st = gz_next_member(g, err)) != LN_OK) return st;
            break;
        case Z_MEM_ERROR: return ln_fail(err, LN_ENOMEM, "out of memory in zlib");
        default:
            return ln_fail(err, LN_EFORMAT, "corrupt gzip data (%s)",
                           g->zs.msg ? g->zs.msg : "zlib error");
        }
    }
    return LN_OK;
}

/* ---- opening and reading -------------------------------------------------------- */

/* Open a regular, non-empty file for reading.  O_NONBLOCK keeps open(2)
 * from waiting for a writer when the path is a FIFO; fstat then refuses
 * anything but a regular file (FIFOs, devices such as /dev/zero, sockets,
 * directories) before a byte is read. */
static ln_status open_regular(const char *path, int *fd_out, int64_t *size, ln_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    *fd_out = -1;
    if (fd < 0) return ln_fail(err, LN_EIO, "cannot open: %s", strerror(errno));
    struct stat sb;
    ln_status st = LN_OK;
    if (fstat(fd, &sb) != 0) st = ln_fail(err, LN_EIO, "cannot stat: %s", strerror(errno));
    else if (S_ISDIR(sb.st_mode)) st = ln_fail(err, LN_EIO, "is a directory, not a regular file");
    else if (!S_ISREG(sb.st_mode)) st = ln_fail(err, LN_EIO, "not a regular file");
    else if (sb.st_size == 0) st = ln_fail(err, LN_EFORMAT, "empty file");
    if (st != LN_OK) {
        close(fd);
        return st;
    }
    /* back to blocking reads (O_NONBLOCK means nothing for regular files,
     * but a reader should not depend on that) */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *fd_out = fd;
    *size = (int64_t)sb.st_size;
    return LN_OK;
}

ln_status ln_input_open(const char *path, ln_input *in, ln_error *err)
{
    in->gz = NULL;
    in->size = 0;
    ln_status st = open_regular(path, &in->fd, &in->size, err);
    if (st != LN_OK) return st;
    unsigned char magic[2];
    int is_gz = pread(in->fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!is_gz && ends_with(path, ".gz")) {
        st = ln_fail(err, LN_EFORMAT, "not a gzip file (no gzip magic 1f 8b), though named .gz");
        goto fail;
    }
    if (is_gz) {
        ln_gz *g = (ln_gz *)malloc(sizeof *g);
        if (g == NULL) {
            st = ln_fail(err, LN_ENOMEM, "out of memory");
            goto fail;
        }
        memset(&g->zs, 0, sizeof g->zs);
        /* 16 + MAX_WBITS: gzip framing only, CRC and length checked */
        if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
            free(g);
            st = ln_fail(err, LN_ENOMEM, "cannot start zlib");
            goto fail;
        }
        g->fd = in->fd;
        g->eof = g->done = 0;
        g->nread = 0;
        in->gz = g;
        in->fd = -1;
    }
    return LN_OK;
fail:
    ln_input_close(in);
    return st;
}

ln_status ln_input_gz_short(ln_input *in, const char *what, size_t got, size_t want, ln_error *err)
{
    (void)in; /* errors inside the stream were reported by ln_input_read */
    return ln_fail(err, LN_EFORMAT, "truncated gzip data: %s has %zu of %zu bytes", what, got, want);
}

ln_status ln_input_read(ln_input *in, void *buf, size_t n, size_t *got, ln_error *err)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < IO_CHUNK ? n - *got : IO_CHUNK;
        if (in->gz) {
            size_t before = *got;
            ln_status st = gz_read(in->gz, (char *)buf, *got + want, got, err);
            if (st != LN_OK) return st;
            if (*got == before) break;
        } else {
            ssize_t k = read(in->fd, (char *)buf + *got, want);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) return ln_fail(err, LN_EIO, "read error: %s", strerror(errno));
            if (k == 0) break;
            *got += (size_t)k;
        }
    }
    return LN_OK;
}

ln_status ln_read_file(const char *path, size_t cap, char **out, size_t *len, ln_error *err)
{
    *out = NULL;
    *len = 0;
    ln_input in = {-1, NULL, 0};
    ln_status st = open_regular(path, &in.fd, &in.size, err);
    if (st != LN_OK) return st;
    if ((uint64_t)in.size > cap) {
        ln_input_close(&in);
        return ln_fail(err, LN_ETOOBIG, "%lld bytes exceed the cap of %zu", (long long)in.size, cap);
    }
    /* the size fstat reported bounds the read: a file that grows meanwhile
     * is read as it was */
    size_t n = (size_t)in.size, got = 0;
    char *buf = (char *)malloc(n + 1);
    if (buf == NULL) {
        ln_input_close(&in);
        return ln_fail(err, LN_ENOMEM, "out of memory for %zu bytes", n);
    }
    st = ln_input_read(&in, buf, n, &got, err);
    ln_input_close(&in);
    if (st == LN_OK && got != n)
        st = ln_fail(err, LN_EIO, "file shrank while read (%zu of %zu bytes)", got, n);
    if (st != LN_OK) {
        free(buf);
        return st;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return LN_OK;
}

const char *ln_path_kind(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return NULL;
    if (S_ISREG(sb.st_mode)) return "file";
    if (S_ISDIR(sb.st_mode)) return "directory";
    if (S_ISFIFO(sb.st_mode)) return "fifo";
    if (S_ISCHR(sb.st_mode)) return "character device";
    if (S_ISBLK(sb.st_mode)) return "block device";
    if (S_ISSOCK(sb.st_mode)) return "socket";
    return "other";
}

/* ---- atomic output -------------------------------------------------------- */

static ln_status write_all(int fd, const char *p, size_t n, ln_error *err)
{
    while (n > 0) {
        size_t want = n < IO_CHUNK ? n : IO_CHUNK;
        ssize_t k = write(fd, p, want);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return ln_fail(err, LN_EIO, "%s", strerror(errno));
        if (k == 0) return ln_fail(err, LN_EIO, "write made no progress");
        p += k;
        n -= (size_t)k;
    }
    return LN_OK;
}

/* fsync the directory holding `path` (so the rename survives a crash). */
static ln_status sync_dir(const char *path, ln_error *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (slash == path) n = 1; /* "/name": the root */
    if (n >= sizeof dir) return LN_OK; /* too long to copy: the data itself is synced */
    if (slash) memcpy(dir, path, n);
    else dir[0] = '.';
    dir[n] = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return LN_OK; /* an unreadable directory cannot be synced; not an error */
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    /* some file systems cannot fsync a directory (EINVAL): that is no failure */
    if (rc != 0 && e != EINVAL && e != EROFS)
        return ln_fail(err, LN_EIO, "cannot sync its directory: %s", strerror(e));
    return LN_OK;
}

ln_status ln_write_atomic(const char *path, const char *tmp, size_t nparts, const char *const *parts,
                          const size_t *lens, ln_error *err)
{
    /* A stale .tmp (a crash) or one planted as a symlink is removed, never
     * followed: O_EXCL then creates a fresh file or fails. */
    if (unlink(tmp) != 0 && errno != ENOENT)
        return ln_fail(err, LN_EIO, "cannot remove the old %s: %s", tmp, strerror(errno));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return ln_fail(err, LN_EIO, "%s", strerror(errno));
    ln_status st = LN_OK;
    for (size_t i = 0; i < nparts && st == LN_OK; i++) st = write_all(fd, parts[i], lens[i], err);
    if (st == LN_OK && fsync(fd) != 0) st = ln_fail(err, LN_EIO, "%s", strerror(errno));
    if (close(fd) != 0 && st == LN_OK) st = ln_fail(err, LN_EIO, "%s", strerror(errno));
    if (st == LN_OK && rename(tmp, path) != 0) st = ln_fail(err, LN_EIO, "%s", strerror(errno));
    if (st != LN_OK) {
        unlink(tmp);
        return st;
    }
    return sync_dir(path, err);
}
