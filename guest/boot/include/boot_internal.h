/* Helpers shared by the C parts of the boot code (not imported into Swift). */
#ifndef SWIFTFS_BOOT_INTERNAL_H
#define SWIFTFS_BOOT_INTERNAL_H

#include "kernel_support.h"

/* isa-debug-exit codes; scripts/run-guest translates QEMU's (code << 1) | 1 back.
   App status s (0...63) -> code 0x10 + s (QEMU status 33 + 2s); panic -> 0x60 (193). */
#define EXIT_CODE_APP_BASE 0x10
#define EXIT_CODE_APP_MAX  63
#define EXIT_CODE_PANIC    0x60

void serial_init(void);
void serial_print(const char *text);
void serial_print_hex(uint64_t value);
void serial_print_decimal(uint64_t value);

void boot_info_capture(uint32_t start_info_physical);
void interrupts_init(void);
void heap_init(void);
void paging_protect_null_page_and_stack_guard(void);

/* One usable RAM range from the PVH memory map. */
struct ram_range { uint64_t base, length; };
int boot_ram_range_count(void);
struct ram_range boot_ram_range(int index);

extern char __kernel_start[], __kernel_end[], __bss_start[], __bss_end[];
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

#endif
