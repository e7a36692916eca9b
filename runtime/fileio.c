/*
 * fileio.c - input files for the loaders (see fileio.h).
 */
#include "fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
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

void ln_input_close(ln_input *in)
{
    if (in->gz) gzclose(in->gz);
    else if (in->fd >= 0) close(in->fd);
    in->gz = NULL;
    in->fd = -1;
}

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
        in->gz = gzdopen(in->fd, "rb");
        if (in->gz == NULL) {
            st = ln_fail(err, LN_ENOMEM, "cannot start zlib");
            goto fail;
        }
        in->fd = -1;
        gzbuffer(in->gz, 1 << 17);
    }
    return LN_OK;
fail:
    ln_input_close(in);
    return st;
}

static ln_status gz_error(gzFile gz, ln_error *err)
{
    int errnum = Z_OK;
    const char *msg = gzerror(gz, &errnum);
    if (errnum == Z_ERRNO) return ln_fail(err, LN_EIO, "read error: %s", strerror(errno));
    return ln_fail(err, LN_EFORMAT, "%s gzip data (%s)", errnum == Z_BUF_ERROR ? "truncated" : "corrupt",
                   msg ? msg : "zlib error");
}

ln_status ln_input_gz_short(ln_input *in, const char *what, size_t got, size_t want, ln_error *err)
{
    int errnum = Z_OK;
    gzerror(in->gz, &errnum);
    if (errnum == Z_OK)
        return ln_fail(err, LN_EFORMAT, "truncated gzip data: %s has %zu of %zu bytes", what, got,
                       want);
    return gz_error(in->gz, err);
}

ln_status ln_input_read(ln_input *in, void *buf, size_t n, size_t *got, ln_error *err)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < IO_CHUNK ? n - *got : IO_CHUNK;
        if (in->gz) {
            int k = gzread(in->gz, (char *)buf + *got, (unsigned)want);
            if (k < 0) return gz_error(in->gz, err);
            if (k == 0) break;
            *got += (size_t)k;
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
