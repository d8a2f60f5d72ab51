/*
 * IDT and the exception report. Any CPU exception is fatal: we print the
 * vector, error code, RIP and a frame-pointer backtrace on serial, then exit
 * QEMU with the panic code. scripts/run-guest symbolizes the "rip=" and
 * "backtrace:" addresses with llvm-symbolizer. A Swift trap (failed bounds
 * check, overflow, fatalError) is ud2, i.e. vector 6.
 */
#include "boot_internal.h"

struct exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high, zero;
} __attribute__((packed));

struct idt_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* The 64-bit TSS: only IST1 is used, a separate stack for exception
   handlers, so that even a kernel stack overflow (#PF on the guard page)
   can be reported instead of escalating to a triple fault. */
struct task_state_segment {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, io_map_base;
} __attribute__((packed));

extern const uint64_t exception_stub_table[32];
extern uint64_t boot_gdt[5];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct task_state_segment tss __attribute__((aligned(16)));
static uint8_t exception_stack[16384] __attribute__((aligned(16)));

static void load_task_state_segment(void) {
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    uint64_t limit = sizeof(tss) - 1;
    tss.ist[0] = (uint64_t)(uintptr_t)(exception_stack + sizeof(exception_stack));
    tss.io_map_base = sizeof(tss);
    /* System descriptor, type 0x9 (available 64-bit TSS), present. */
    boot_gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40)
                | (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    boot_gdt[4] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(0x18));
}

void interrupts_init(void) {
    load_task_state_segment();
    for (int v = 0; v < 32; v++) {
        uint64_t handler = exception_stub_table[v];
        idt[v].offset_low = (uint16_t)handler;
        idt[v].selector = 0x08;
        idt[v].ist = 1;                  /* handlers run on exception_stack */
        idt[v].type_attributes = 0x8E;   /* present, ring 0, 64-bit interrupt gate */
        idt[v].offset_middle = (uint16_t)(handler >> 16);
        idt[v].offset_high = (uint32_t)(handler >> 32);
        idt[v].zero = 0;
    }
    struct idt_pointer pointer = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(pointer));
}

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode (Swift trap?)", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD floating point", "#VE virtualization",
    "#CP control protection", "reserved", "reserved", "reserved", "reserved",
    "reserved", "reserved", "#HV hypervisor injection", "#VC VMM communication",
    "#SX security", "reserved",
};

static int address_on_stack(uint64_t address) {
    return address >= (uint64_t)(uintptr_t)boot_stack_bottom &&
           address + 16 <= (uint64_t)(uintptr_t)boot_stack_top && (address & 7) == 0;
}

void exception_dispatch(struct exception_frame *frame) __attribute__((noreturn));
void exception_dispatch(struct exception_frame *frame) {
    static int nested;
    if (nested++) {
        serial_print("\nnested CPU exception\n");
        qemu_debug_exit(EXIT_CODE_PANIC);
    }
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));

    serial_print("\nCPU EXCEPTION vector=");
    serial_print_decimal(frame->vector);
    serial_print(" (");
    serial_print(exception_names[frame->vector & 31]);
    serial_print(") error=");
    serial_print_hex(frame->error_code);
    serial_print(" rip=");
    serial_print_hex(frame->rip);
    serial_print("\n  rsp=");
    serial_print_hex(frame->rsp);
    serial_print(" rbp=");
    serial_print_hex(frame->rbp);
    serial_print(" cr2=");
    serial_print_hex(cr2);
    serial_print(" rax=");
    serial_print_hex(frame->rax);
    serial_print(" rdi=");
    serial_print_hex(frame->rdi);
    serial_print(" rsi=");
    serial_print_hex(frame->rsi);
    serial_print("\n");
    uint64_t guard = (uint64_t)(uintptr_t)boot_stack_guard;
    if (frame->vector == 14 && cr2 >= guard && cr2 < guard + 4096) {
        serial_print("  kernel stack overflow (the boot stack is ");
        serial_print_decimal((uint64_t)(boot_stack_top - boot_stack_bottom) >> 10);
        serial_print(" KiB)\n");
    } else if (frame->vector == 14 && cr2 < 4096) {
        serial_print("  null pointer dereference\n");
    }

    /* Return addresses minus one, so a symbolizer names the call site. */
    serial_print("  backtrace:");
    uint64_t rbp = frame->rbp;
    for (int depth = 0; depth < 32 && address_on_stack(rbp); depth++) {
        uint64_t return_address = ((uint64_t *)(uintptr_t)rbp)[1];
        if (return_address == 0) break;
        serial_print(" ");
        serial_print_hex(return_address - 1);
        uint64_t next = ((uint64_t *)(uintptr_t)rbp)[0];
        if (next <= rbp) break;
        rbp = next;
    }
    serial_print("\n");
    qemu_debug_exit(EXIT_CODE_PANIC);
}
