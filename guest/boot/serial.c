/* COM1 serial console, polled. Swift's print() reaches it through putchar. */
#include "boot_internal.h"

#define COM1 0x3f8

void serial_init(void) {
    port_out8(COM1 + 1, 0x00);   /* no interrupts */
    port_out8(COM1 + 3, 0x80);   /* DLAB on */
    port_out8(COM1 + 0, 0x01);   /* divisor 1: 115200 baud */
    port_out8(COM1 + 1, 0x00);
    port_out8(COM1 + 3, 0x03);   /* 8N1, DLAB off */
    port_out8(COM1 + 2, 0xC7);   /* FIFO on, cleared */
    port_out8(COM1 + 4, 0x03);   /* DTR, RTS */
}

void serial_write_byte(uint8_t byte) {
    /* Wait for the transmit holding register; QEMU's UART is always ready,
       so the bound only guards against a missing UART. */
    for (int spins = 0; spins < 100000 && !(port_in8(COM1 + 5) & 0x20); spins++) cpu_pause();
    port_out8(COM1, byte);
}

int putchar(int c) {
    serial_write_byte((uint8_t)c);
    return c;
}

void serial_print(const char *text) {
    while (*text) serial_write_byte((uint8_t)*text++);
}

void serial_print_hex(uint64_t value) {
    static const char digits[] = "0123456789abcdef";
    serial_print("0x");
    int shift = 60;
    while (shift > 0 && ((value >> shift) & 0xf) == 0) shift -= 4;
    for (; shift >= 0; shift -= 4) serial_write_byte((uint8_t)digits[(value >> shift) & 0xf]);
}

void serial_print_decimal(uint64_t value) {
    char buffer[21];
    int i = 20;
    buffer[i] = 0;
    do { buffer[--i] = (char)('0' + value % 10); value /= 10; } while (value && i > 0);
    serial_print(&buffer[i]);
}
