/*
 * Identity mappings beyond the boot tables (which cover 0..4 GiB with 2 MiB
 * pages): RAM above 4 GiB and 64-bit PCI BARs, which QEMU/SeaBIOS may place
 * far up (e.g. 0x8000000000). Page-table pages come from a fixed pool.
 */
#include "boot_internal.h"

#define PAGE_PRESENT  0x1ULL
#define PAGE_WRITABLE 0x2ULL
#define PAGE_WRITE_THROUGH 0x8ULL
#define PAGE_CACHE_DISABLE 0x10ULL
#define PAGE_LARGE    0x80ULL
#define ADDRESS_MASK  0x000ffffffffff000ULL
#define LARGE_PAGE    (2ULL << 20)
#define POOL_TABLES   64

extern uint64_t boot_pml4[512];
extern uint64_t boot_pt[4 * 512];   /* 4 KiB pages of the first 8 MiB (entry.S) */
static uint64_t table_pool[POOL_TABLES][512] __attribute__((aligned(4096)));
static int tables_used;

/* The table an entry points to, creating it when absent. */
static uint64_t *next_table(uint64_t *entry) {
    if (*entry & PAGE_PRESENT) return (uint64_t *)(uintptr_t)(*entry & ADDRESS_MASK);
    if (tables_used == POOL_TABLES) return 0;
    uint64_t *table = table_pool[tables_used++];
    *entry = (uint64_t)(uintptr_t)table | PAGE_PRESENT | PAGE_WRITABLE;
    return table;
}

int paging_identity_map(uint64_t physical, uint64_t length, int device) {
    if (length == 0) return 0;
    uint64_t start = physical & ~(LARGE_PAGE - 1);
    uint64_t end = (physical + length + LARGE_PAGE - 1) & ~(LARGE_PAGE - 1);
    if (end > (1ULL << 47) || end < start) return -1;   /* beyond 4-level paging */
    uint64_t attributes = PAGE_PRESENT | PAGE_WRITABLE | PAGE_LARGE;
    if (device) attributes |= PAGE_CACHE_DISABLE | PAGE_WRITE_THROUGH;

    for (uint64_t address = start; address < end; address += LARGE_PAGE) {
        uint64_t *pdpt = next_table(&boot_pml4[(address >> 39) & 511]);
        if (!pdpt) return -1;
        uint64_t *pdpt_entry = &pdpt[(address >> 30) & 511];
        if ((*pdpt_entry & PAGE_PRESENT) && (*pdpt_entry & PAGE_LARGE)) continue;   /* 1 GiB page */
        uint64_t *pd = next_table(pdpt_entry);
        if (!pd) return -1;
        uint64_t *pd_entry = &pd[(address >> 21) & 511];
        if (!(*pd_entry & PAGE_PRESENT)) *pd_entry = address | attributes;
    }
    /* Reload CR3 to flush the TLB (entries were only added, but be plain about it). */
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
    return 0;
}

/* Unmaps one 4 KiB page of the first 8 MiB, so that touching it faults. */
static void unmap_small_page(uint64_t address) {
    if (address >= 4 * 512 * 4096ULL) kernel_panic("paging: page to unmap is not 4 KiB-mapped");
    boot_pt[address >> 12] = 0;
    __asm__ volatile("invlpg (%0)" : : "r"((uintptr_t)address) : "memory");
}

/* Page 0: a null pointer dereference faults (#PF, cr2 < 4096) instead of
   silently writing over low memory. Called once the PVH start_info, which
   QEMU places in page 0, has been copied. The stack guard: overflowing the
   boot stack faults instead of overwriting the BSS below it. */
void paging_protect_null_page_and_stack_guard(void) {
    unmap_small_page(0);
    unmap_small_page((uint64_t)(uintptr_t)boot_stack_guard);
}
