/*
 * stream.h - non-temporal stores for outputs far larger than the caches.
 *
 * A store to memory that is not in cache first reads the line (read for
 * ownership), so an elementwise op over huge arrays moves one more stream
 * than it needs.  Kernels compute such outputs in small cache-resident
 * chunks and write each chunk with streaming stores, as memcpy does for
 * large copies.  Below LN_STREAM_MIN bytes the output is likely to be read
 * again soon, so ordinary stores (which keep it in cache) are better.
 */
#ifndef LN_STREAM_H
#define LN_STREAM_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#define LN_STREAM_MIN ((int64_t)16 << 20)
#define LN_STREAM_CHUNK_BYTES 4096

static inline int ln_can_stream(const void *dst, int64_t nbytes)
{
    return nbytes >= LN_STREAM_MIN && ((uintptr_t)dst & 31) == 0;
}

/* dst and src 32-byte aligned, n a multiple of 32 */
static inline void ln_stream_store(void *dst, const void *src, size_t n)
{
#if defined(__AVX__)
    for (size_t i = 0; i < n; i += 32)
        _mm256_stream_si256((__m256i *)((char *)dst + i),
                            _mm256_load_si256((const __m256i *)((const char *)src + i)));
#elif defined(__SSE2__)
    for (size_t i = 0; i < n; i += 16)
        _mm_stream_si128((__m128i *)((char *)dst + i),
                         _mm_load_si128((const __m128i *)((const char *)src + i)));
#else
    memcpy(dst, src, n);
#endif
}

static inline void ln_stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

#endif
