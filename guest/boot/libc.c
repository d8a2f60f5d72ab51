/*
 * The few libc symbols the Embedded Swift runtime and LLVM expect. Written in
 * C (compiled with -fno-builtin) because a Swift loop would be turned back
 * into a call to the very function it implements.
 */
#include "boot_internal.h"

/* Under TCG every `rep movs/stos` iteration is a trip through the translator
   loop, while straight-line 8-byte loads and stores run as translated code:
   word loops measured faster (scripts/run-guest -- kernel.memory). */
typedef uint64_t __attribute__((may_alias, aligned(1))) unaligned_u64;

void *memset(void *destination, int value, size_t count) {
    unsigned char *d = destination;
    uint64_t pattern = 0x0101010101010101ULL * (unsigned char)value;
    while (count >= 32) {
        ((unaligned_u64 *)d)[0] = pattern;
        ((unaligned_u64 *)d)[1] = pattern;
        ((unaligned_u64 *)d)[2] = pattern;
        ((unaligned_u64 *)d)[3] = pattern;
        d += 32;
        count -= 32;
    }
    while (count >= 8) { *(unaligned_u64 *)d = pattern; d += 8; count -= 8; }
    while (count--) *d++ = (unsigned char)value;
    return destination;
}

/* Copies forwards in 8-byte words; safe for overlap when destination < source. */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t count) {
    while (count >= 32) {
        uint64_t a = ((const unaligned_u64 *)s)[0], b = ((const unaligned_u64 *)s)[1];
        uint64_t c = ((const unaligned_u64 *)s)[2], e = ((const unaligned_u64 *)s)[3];
        ((unaligned_u64 *)d)[0] = a;
        ((unaligned_u64 *)d)[1] = b;
        ((unaligned_u64 *)d)[2] = c;
        ((unaligned_u64 *)d)[3] = e;
        d += 32; s += 32; count -= 32;
    }
    while (count >= 8) { *(unaligned_u64 *)d = *(const unaligned_u64 *)s; d += 8; s += 8; count -= 8; }
    while (count--) *d++ = *s++;
}

/* Copies backwards, for overlap with the destination above the source. */
static void copy_backward(unsigned char *d, const unsigned char *s, size_t count) {
    d += count;
    s += count;
    while (count >= 32) {
        d -= 32; s -= 32; count -= 32;
        uint64_t a = ((const unaligned_u64 *)s)[0], b = ((const unaligned_u64 *)s)[1];
        uint64_t c = ((const unaligned_u64 *)s)[2], e = ((const unaligned_u64 *)s)[3];
        ((unaligned_u64 *)d)[0] = a;
        ((unaligned_u64 *)d)[1] = b;
        ((unaligned_u64 *)d)[2] = c;
        ((unaligned_u64 *)d)[3] = e;
    }
    while (count >= 8) { d -= 8; s -= 8; count -= 8; *(unaligned_u64 *)d = *(const unaligned_u64 *)s; }
    while (count--) *--d = *--s;
}

void *memcpy(void *restrict destination, const void *restrict source, size_t count) {
    copy_forward(destination, source, count);
    return destination;
}

void *memmove(void *destination, const void *source, size_t count) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d <= s || d >= s + count) copy_forward(d, s, count);
    else copy_backward(d, s, count);
    return destination;
}

int memcmp(const void *a, const void *b, size_t count) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < count; i++) {
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *text) {
    size_t n = 0;
    while (text[n]) n++;
    return n;
}

double ceil(double x) {
    /* |x| >= 2^52 (or NaN/inf) is already integral. */
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x;
    double truncated = (double)(long long)x;
    if (truncated < x) truncated += 1.0;
    if (truncated == 0.0 && x < 0.0) return -0.0;
    return truncated;
}

/* Random bytes for hashing seeds: rdrand when the CPU has it, else xorshift64*
   seeded from the TSC. Not cryptographic; nothing here needs it to be. */
static uint64_t xorshift_state;

static int cpu_has_rdrand(void) {
    static int known = -1;
    if (known < 0) {
        uint32_t a, b, c, d;
        cpu_cpuid(1, 0, &a, &b, &c, &d);
        known = (c >> 30) & 1;
    }
    return known;
}

static uint64_t random_u64(void) {
    if (cpu_has_rdrand()) {
        for (int tries = 0; tries < 10; tries++) {
            uint64_t value;
            unsigned char ok;
            __asm__ volatile("rdrand %0; setc %1" : "=r"(value), "=qm"(ok));
            if (ok) return value;
        }
    }
    if (xorshift_state == 0) xorshift_state = cpu_rdtsc() | 1;
    xorshift_state ^= xorshift_state >> 12;
    xorshift_state ^= xorshift_state << 25;
    xorshift_state ^= xorshift_state >> 27;
    return xorshift_state * 0x2545F4914F6CDD1DULL;
}

void arc4random_buf(void *buffer, size_t count) {
    unsigned char *out = buffer;
    while (count > 0) {
        uint64_t value = random_u64();
        size_t n = count < 8 ? count : 8;
        for (size_t i = 0; i < n; i++) out[i] = (unsigned char)(value >> (8 * i));
        out += n;
        count -= n;
    }
}

uint32_t arc4random(void) { return (uint32_t)random_u64(); }
