/* First C code after the switch to long mode: bring up the pieces Swift needs
   (console, exception handlers, heap), then enter the Swift kernel. */
#include "boot_internal.h"

/* Defined in Swift (guest/kernel/KernelMain.swift). */
extern void swiftfs_kernel_main(void) __attribute__((noreturn));

static void mask_legacy_pic(void) {
    /* We poll devices; keep every legacy interrupt line masked. */
    port_out8(0x21, 0xff);
    port_out8(0xa1, 0xff);
}

void kernel_early_main(uint32_t start_info_physical) __attribute__((noreturn));
void kernel_early_main(uint32_t start_info_physical) {
    serial_init();
    interrupts_init();
    mask_legacy_pic();
    boot_info_capture(start_info_physical);
    paging_protect_null_page_and_stack_guard();
    heap_init();
    swiftfs_kernel_main();
}
