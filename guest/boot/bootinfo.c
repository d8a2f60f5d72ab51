/*
 * Copies what we need out of the PVH hvm_start_info (command line and the
 * usable RAM ranges) into kernel memory before anything else runs, so the
 * heap may later reuse the memory QEMU's option ROM put it in.
 */
#include "boot_internal.h"

#define START_INFO_MAGIC 0x336ec578
#define MEMMAP_TYPE_RAM 1
#define MAX_RAM_RANGES 32
#define MAX_COMMAND_LINE 4096

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr;      /* version >= 1 */
    uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

static char command_line[MAX_COMMAND_LINE];
static struct ram_range ram_ranges[MAX_RAM_RANGES];
static int ram_range_count;
static uint64_t tsc_at_entry;

void boot_info_capture(uint32_t start_info_physical) {
    tsc_at_entry = cpu_rdtsc();
    const struct hvm_start_info *info = (const struct hvm_start_info *)(uintptr_t)start_info_physical;
    if (info == 0 || info->magic != START_INFO_MAGIC) kernel_panic("no PVH start_info (boot with qemu -kernel)");

    if (info->cmdline_paddr) {
        const char *source = (const char *)(uintptr_t)info->cmdline_paddr;
        size_t i = 0;
        for (; i < MAX_COMMAND_LINE - 1 && source[i]; i++) command_line[i] = source[i];
        command_line[i] = 0;
    }

    if (info->version < 1 || info->memmap_paddr == 0) kernel_panic("PVH start_info has no memory map");
    const struct hvm_memmap_entry *entries = (const struct hvm_memmap_entry *)(uintptr_t)info->memmap_paddr;
    for (uint32_t i = 0; i < info->memmap_entries && ram_range_count < MAX_RAM_RANGES; i++) {
        if (entries[i].type != MEMMAP_TYPE_RAM || entries[i].size == 0) continue;
        ram_ranges[ram_range_count].base = entries[i].addr;
        ram_ranges[ram_range_count].length = entries[i].size;
        ram_range_count++;
    }
}

const char *boot_command_line(void) { return command_line; }
uint64_t boot_tsc_at_entry(void) { return tsc_at_entry; }
int boot_ram_range_count(void) { return ram_range_count; }
struct ram_range boot_ram_range(int index) { return ram_ranges[index]; }

uint64_t boot_usable_ram_bytes(void) {
    uint64_t total = 0;
    for (int i = 0; i < ram_range_count; i++) total += ram_ranges[i].length;
    return total;
}
