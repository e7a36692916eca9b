/*
 * memfile.h - the fuzzers' input as a file: a memfd holding the bytes, and
 * its /proc/self/fd path, so the real file-reading code paths run.
 */
#ifndef LN_FUZZ_MEMFILE_H
#define LN_FUZZ_MEMFILE_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Returns the fd (close it after use) and fills path, or -1. */
static int memfile(const uint8_t *data, size_t size, char *path, size_t path_size)
{
    int fd = memfd_create("fuzz-input", 0);
    if (fd < 0) return -1;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
