/*
 * The C/asm surface the Swift kernel imports (bridging header). Everything
 * here is either a static inline wrapper around one instruction or a
 * function implemented in the C files of guest/boot.
 */
#ifndef SWIFTFS_KERNEL_SUPPORT_H
#define SWIFTFS_KERNEL_SUPPORT_H

#include <stdint.h>
#include <stddef.h>

/* ---- Port I/O ---- */
static inline void port_out8(uint16_t port, uint8_t value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline void port_out16(uint16_t port, uint16_t value) { __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port)); }
static inline void port_out32(uint16_t port, uint32_t value) { __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port)); }
static inline uint8_t port_in8(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t port_in16(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t port_in32(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* ---- Volatile memory access (MMIO registers and device-written ring fields) ---- */
static inline uint8_t volatile_load8(uintptr_t a) { return *(volatile uint8_t *)a; }
static inline uint16_t volatile_load16(uintptr_t a) { return *(volatile uint16_t *)a; }
static inline uint32_t volatile_load32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline uint64_t volatile_load64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void volatile_store8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void volatile_store16(uintptr_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline void volatile_store32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void volatile_store64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

/* Full fence: orders our ring writes against the device (another host thread/process). */
static inline void memory_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/* Compiler-only barrier; x86 keeps loads ordered with loads and stores with stores. */
static inline void compiler_fence(void) { __asm__ volatile("" ::: "memory"); }

/* ---- CPU ---- */
static inline uint64_t cpu_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_pause(void) { __asm__ volatile("pause"); }
static inline void cpu_trap(void) { __asm__ volatile("ud2"); }
static inline void cpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(subleaf));
}

/* ---- Implemented in the C files of guest/boot ---- */

/* QEMU isa-debug-exit (port 0xf4): QEMU exits with status (code << 1) | 1. */
void qemu_debug_exit(uint8_t code) __attribute__((noreturn));
/* Kernel panic: prints the message on serial and exits QEMU with the panic code. */
void kernel_panic(const char *message) __attribute__((noreturn));

/* Serial console (COM1). */
void serial_write_byte(uint8_t byte);

/* Boot information captured from the PVH start_info before the heap existed. */
const char *boot_command_line(void);
uint64_t boot_tsc_at_entry(void);
uint64_t boot_usable_ram_bytes(void);

/* libc memory functions (libc.c); the Swift runtime and LLVM call them too. */
void *memset(void *destination, int value, size_t count);
void *memcpy(void *restrict destination, const void *restrict source, size_t count);
void *memmove(void *destination, const void *source, size_t count);
int memcmp(const void *a, const void *b, size_t count);

/* Heap statistics (the allocator itself is posix_memalign/free). */
uint64_t heap_total_bytes(void);
uint64_t heap_free_bytes(void);
int posix_memalign(void **result, size_t alignment, size_t size);

/* Identity-maps [physical, physical + length) with 2 MiB pages, uncached when
   `device` is set. Returns 0 on success, -1 when out of page-table pages. */
int paging_identity_map(uint64_t physical, uint64_t length, int device);

#endif
