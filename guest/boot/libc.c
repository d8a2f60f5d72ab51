/*
 * The few libc symbols the Embedded Swift runtime and LLVM expect. Written in
 * C (compiled with -fno-builtin) because a Swift loop would be turned back
 * into a call to the very function it implements.
 */
#include "boot_internal.h"

void *memset(void *destination, int value, size_t count) {
    void *d = destination;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(count) : "a"(value) : "memory");
    return destination;
}

void *memcpy(void *restrict destination, const void *restrict source, size_t count) {
    void *d = destination;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(source), "+c"(count) : : "memory");
    return destination;
}

void *memmove(void *destination, const void *source, size_t count) {
    unsigned char *d = destination;
    const unsigned char *s = source;
    if (d <= s || d >= s + count) return memcpy(destination, source, count);
    /* Overlap with the destination above the source: copy backwards. */
    d += count - 1;
    s += count - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(count) : : "memory");
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
