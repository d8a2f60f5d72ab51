/*
 * The kernel heap behind posix_memalign/free (what the Swift runtime calls).
 *
 * Small requests (size and alignment up to 2 KiB) come from per-size-class
 * free lists; each class carves 64 KiB slabs, and a byte map over the heap
 * says which 64 KiB chunks are slabs of which class, so free() needs no
 * header on small blocks. Everything else comes from an address-ordered
 * first-fit free list that coalesces neighbours on free; those blocks carry a
 * 32-byte header just before the returned pointer.
 *
 * Memory: every usable RAM range of the PVH memory map above the kernel.
 * Single CPU, no interrupt handlers that allocate: no locking.
 */
#include "boot_internal.h"

#define ENOMEM 12
#define EINVAL 22

#define SLAB_SIZE        (64 * 1024)
#define SMALL_CLASSES    8            /* 16, 32, ..., 2048 bytes */
#define SMALLEST_SHIFT   4
#define LARGEST_SMALL    2048
#define LARGE_HEADER     32
#define MIN_FREE_BLOCK   64
#define LARGE_MAGIC      0x5357494654465341ULL   /* "ASFTFIWS" */

struct free_block { uint64_t size; struct free_block *next; };
struct large_header { uint64_t magic, start, size, unused; };
/* A free small block carries a marker in its second word (every block has 16 bytes or more),
   so freeing it again is caught: the marker sends free() to look for it on the free list. */
struct small_block { struct small_block *next; uint64_t free_marker; };
#define SMALL_FREE_MARKER 0x45455246534c4d53ULL   /* "SMLSFREE" */

static struct free_block *large_free_list;      /* sorted by address */
static struct small_block *small_free[SMALL_CLASSES];
static uint64_t small_free_bytes;
static uint8_t *slab_map;                      /* per 64 KiB chunk: 0 or class + 1 */
static uint64_t heap_low, heap_high, heap_total;

static inline uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) & ~(alignment - 1);
}

/* ---- Large blocks: first fit, coalescing ---- */

/* Inserts [start, start + size) into the address-ordered list, merging neighbours. */
static void large_insert(uint64_t start, uint64_t size) {
    struct free_block *previous = 0, *current = large_free_list;
    while (current && (uint64_t)(uintptr_t)current < start) { previous = current; current = current->next; }
    if (current && start + size > (uint64_t)(uintptr_t)current) kernel_panic("heap: double free or corruption (overlaps next free block)");
    if (previous && (uint64_t)(uintptr_t)previous + previous->size > start) kernel_panic("heap: double free or corruption (overlaps previous free block)");

    struct free_block *block = (struct free_block *)(uintptr_t)start;
    block->size = size;
    block->next = current;
    if (current && start + size == (uint64_t)(uintptr_t)current) {
        block->size += current->size;
        block->next = current->next;
    }
    if (previous && (uint64_t)(uintptr_t)previous + previous->size == start) {
        previous->size += block->size;
        previous->next = block->next;
    } else if (previous) {
        previous->next = block;
    } else {
        large_free_list = block;
    }
}

static void *large_allocate(uint64_t size, uint64_t alignment) {
    uint64_t need = align_up(size ? size : 1, 16);
    if (alignment < 16) alignment = 16;
    struct free_block **link = &large_free_list;
    for (struct free_block *block = large_free_list; block; link = &block->next, block = block->next) {
        uint64_t start = (uint64_t)(uintptr_t)block, end = start + block->size;
        uint64_t user = align_up(start + LARGE_HEADER, alignment);
        uint64_t lead = user - LARGE_HEADER - start;
        /* A leading gap must be big enough to stay on the free list. */
        if (lead != 0 && lead < MIN_FREE_BLOCK) { user += align_up(MIN_FREE_BLOCK, alignment); lead = user - LARGE_HEADER - start; }
        if (user + need > end || user + need < user) continue;

        uint64_t used_end = user + need;
        uint64_t tail = end - used_end;
        if (tail < MIN_FREE_BLOCK) { used_end = end; tail = 0; }
        struct free_block *next = block->next;
        if (tail) {
            struct free_block *tail_block = (struct free_block *)(uintptr_t)used_end;
            tail_block->size = tail;
            tail_block->next = next;
            next = tail_block;
        }
        uint64_t used_start;
        if (lead) {
            block->size = lead;
            block->next = next;
            used_start = user - LARGE_HEADER;
        } else {
            *link = next;
            used_start = start;
        }
        struct large_header *header = (struct large_header *)(uintptr_t)(user - LARGE_HEADER);
        header->magic = LARGE_MAGIC;
        header->start = used_start;
        header->size = used_end - used_start;
        return (void *)(uintptr_t)user;
    }
    return 0;
}

static void large_free(void *pointer) {
    struct large_header *header = (struct large_header *)((uintptr_t)pointer - LARGE_HEADER);
    if (header->magic != LARGE_MAGIC) kernel_panic("heap: free of an invalid or already freed pointer");
    header->magic = 0;
    large_insert(header->start, header->size);
}

/* ---- Small blocks: size classes ---- */

/* The smallest class holding `size` (1...LARGEST_SMALL): log2 rounded up, by bit scan
   rather than a loop, since every Swift object and array allocation comes here. */
static int small_class(uint64_t size) {
    if (size <= ((uint64_t)1 << SMALLEST_SHIFT)) return 0;
    return 64 - __builtin_clzll(size - 1) - SMALLEST_SHIFT;
}

static int refill_class(int index) {
    uint8_t *slab = large_allocate(SLAB_SIZE, SLAB_SIZE);
    if (!slab) return 0;
    slab_map[((uint64_t)(uintptr_t)slab - heap_low) / SLAB_SIZE] = (uint8_t)(index + 1);
    uint64_t block_size = (uint64_t)1 << (index + SMALLEST_SHIFT);
    for (uint64_t offset = SLAB_SIZE; offset >= block_size; offset -= block_size) {
        struct small_block *block = (struct small_block *)(slab + offset - block_size);
        block->next = small_free[index];
        block->free_marker = SMALL_FREE_MARKER;
        small_free[index] = block;
    }
    small_free_bytes += SLAB_SIZE;
    return 1;
}

/* ---- The libc interface ---- */

/* Exhaustion is reported (the Swift runtime then traps in swift_slowAlloc
   or swift_allocObject, which run-guest symbolizes). */
static int out_of_memory(size_t size, size_t alignment) {
    serial_print("heap: out of memory for ");
    serial_print_decimal(size);
    serial_print(" bytes (alignment ");
    serial_print_decimal(alignment);
    serial_print(", free ");
    serial_print_decimal(heap_free_bytes());
    serial_print(")\n");
    return ENOMEM;
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1))) return EINVAL;
    /* More than the heap holds can never succeed, and rounding such a size (or aligning to
       such an alignment) would wrap around to a tiny block. */
    if (size > heap_total || alignment > heap_total) return out_of_memory(size, alignment);
    uint64_t small_size = size > alignment ? size : alignment;
    if (small_size <= LARGEST_SMALL) {
        int index = small_class(small_size);
        if (!small_free[index] && !refill_class(index)) return out_of_memory(size, alignment);
        struct small_block *block = small_free[index];
        small_free[index] = block->next;
        block->free_marker = 0;
        small_free_bytes -= (uint64_t)1 << (index + SMALLEST_SHIFT);
        *result = block;
        return 0;
    }
    void *pointer = large_allocate(size, alignment);
    if (!pointer) return out_of_memory(size, alignment);
    *result = pointer;
    return 0;
}

void free(void *pointer) {
    if (!pointer) return;
    uint64_t address = (uint64_t)(uintptr_t)pointer;
    if (address < heap_low || address >= heap_high) kernel_panic("heap: free of a pointer outside the heap");
    uint8_t class_plus_one = slab_map[(address - heap_low) / SLAB_SIZE];
    if (class_plus_one) {
        int index = class_plus_one - 1;
        uint64_t block_size = (uint64_t)1 << (index + SMALLEST_SHIFT);
        if (address & (block_size - 1)) kernel_panic("heap: free of a misaligned small block");
        struct small_block *block = pointer;
        if (block->free_marker == SMALL_FREE_MARKER) {
            /* Most likely a double free; the data may also just look like the marker. */
            for (struct small_block *free_block = small_free[index]; free_block; free_block = free_block->next)
                if (free_block == block) kernel_panic("heap: double free of a small block");
        }
        block->next = small_free[index];
        block->free_marker = SMALL_FREE_MARKER;
        small_free[index] = block;
        small_free_bytes += block_size;
        return;
    }
    large_free(pointer);
}

void *malloc(size_t size) {
    void *pointer;
    return posix_memalign(&pointer, 16, size) == 0 ? pointer : 0;
}

void *calloc(size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return 0;
    void *pointer = malloc(total);
    if (pointer) memset(pointer, 0, total);
    return pointer;
}

uint64_t heap_total_bytes(void) { return heap_total; }

uint64_t heap_free_bytes(void) {
    uint64_t total = small_free_bytes;
    for (struct free_block *block = large_free_list; block; block = block->next) total += block->size;
    return total;
}

/* ---- Setup ---- */

void heap_init(void) {
    uint64_t floor = align_up((uint64_t)(uintptr_t)__kernel_end, 4096);
    if (floor < (1 << 20)) floor = 1 << 20;

    /* Usable ranges above the kernel, and the span they cover. */
    struct ram_range ranges[32];
    int count = 0;
    heap_low = ~0ULL;
    heap_high = 0;
    for (int i = 0; i < boot_ram_range_count() && count < 32; i++) {
        struct ram_range range = boot_ram_range(i);
        uint64_t start = range.base, end = range.base + range.length;
        if (start < floor) start = floor;
        start = align_up(start, 4096);
        end &= ~4095ULL;
        if (end <= start || end - start < 2 * SLAB_SIZE) continue;
        ranges[count].base = start;
        ranges[count].length = end - start;
        count++;
        if (start < heap_low) heap_low = start;
        if (end > heap_high) heap_high = end;
    }
    if (count == 0) kernel_panic("heap: no usable RAM above the kernel");
    heap_low &= ~(uint64_t)(SLAB_SIZE - 1);

    /* The slab map lives at the start of the first range big enough for it. */
    uint64_t map_bytes = align_up((heap_high - heap_low) / SLAB_SIZE + 1, 4096);
    int map_range = -1;
    for (int i = 0; i < count; i++) {
        if (ranges[i].length > map_bytes + 2 * SLAB_SIZE) { map_range = i; break; }
    }
    if (map_range < 0) kernel_panic("heap: no room for the slab map");

    for (int i = 0; i < count; i++) {
        uint64_t start = ranges[i].base, length = ranges[i].length;
        if (start + length > (4ULL << 30) &&
            paging_identity_map(start, length, 0) != 0) kernel_panic("heap: cannot map RAM above 4 GiB");
        if (i == map_range) {
            slab_map = (uint8_t *)(uintptr_t)start;
            memset(slab_map, 0, map_bytes);
            start += map_bytes;
            length -= map_bytes;
        }
        large_insert(start, length);
        heap_total += length;
    }
}
