/* Leaving the machine: isa-debug-exit, and the panic path. */
#include "boot_internal.h"

void qemu_debug_exit(uint8_t code) {
    port_out32(0xf4, code);
    /* Only reached without the isa-debug-exit device: stop here. */
    for (;;) __asm__ volatile("cli; hlt");
}

void kernel_panic(const char *message) {
    serial_print("\nKERNEL PANIC: ");
    serial_print(message);
    serial_print("\n");
    qemu_debug_exit(EXIT_CODE_PANIC);
}
