/*
 * PVH entry: QEMU jumps here in 32-bit protected mode, paging off, with %ebx
 * pointing at the hvm_start_info structure. We zero the BSS, build identity
 * page tables for the first 4 GiB (2 MiB pages; 4 KiB pages for the first
 * 8 MiB), switch to long mode with SSE
 * enabled and call kernel_early_main(start_info) in C.
 */

#define PAGE_PRESENT   0x1
#define PAGE_WRITABLE  0x2
#define PAGE_LARGE     0x80
#define EFER_MSR       0xC0000080
#define EFER_LME       (1 << 8)
#define CR0_PE         (1 << 0)
#define CR0_MP         (1 << 1)
#define CR0_NE         (1 << 5)
#define CR0_WP         (1 << 16)
#define CR0_PG         (1 << 31)
#define CR4_PAE        (1 << 5)
#define CR4_OSFXSR     (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)

/* The PVH ELF note (XEN_ELFNOTE_PHYS32_ENTRY = 18) tells QEMU where to enter. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4              /* name size: "Xen\0" */
    .long 4              /* descriptor size: a 32-bit address */
    .long 18             /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_start

    .section .text.boot, "ax"
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld
    mov %ebx, %esi                  /* keep start_info; rep stos uses %edi */

    /* Zero the BSS (it also holds the page tables and the stack). */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
    mov $boot_pdpt, %eax
    or $(PAGE_PRESENT | PAGE_WRITABLE), %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $(PAGE_PRESENT | PAGE_WRITABLE), %eax
    xor %ecx, %ecx
1:  mov %eax, boot_pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 1b

    /* 2048 page-directory entries of 2 MiB each identity-map 0..4 GiB. */
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PAGE_PRESENT | PAGE_WRITABLE | PAGE_LARGE), %eax
    mov %eax, boot_pd(,%ecx,8)
    movl $0, boot_pd+4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 2b

    /* The first 8 MiB (kernel, page tables, stack) use 4 KiB pages so that
       single pages can be unmapped later: page 0 once the start_info (which
       QEMU puts there) has been read, and the stack guard page. See paging.c. */
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $12, %eax
    or $(PAGE_PRESENT | PAGE_WRITABLE), %eax
    mov %eax, boot_pt(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 3b
    mov $boot_pt, %eax
    or $(PAGE_PRESENT | PAGE_WRITABLE), %eax
    xor %ecx, %ecx
4:  mov %eax, boot_pd(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jne 4b

    lgdt boot_gdt_pointer

    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4

    mov $boot_pml4, %eax
    mov %eax, %cr3

    mov $EFER_MSR, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr

    /* Paging on (long mode active); FPU native, CR0.EM clear so SSE works. */
    mov %cr0, %eax
    and $~(1 << 2), %eax
    or $(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0

    ljmp $0x08, $long_mode_entry

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp                  /* ends frame-pointer backtraces */
    fninit
    mov %esi, %edi                  /* start_info physical address */
    call kernel_early_main
3:  cli
    hlt
    jmp 3b

    /* Writable: interrupts_init() fills in the TSS descriptor. */
    .section .data.boot, "aw"
    .balign 16
    .globl boot_gdt
boot_gdt:
    .quad 0                         /* null */
    .quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
    .quad 0, 0                      /* 0x18: 64-bit TSS (16 bytes) */
boot_gdt_end:
boot_gdt_pointer:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .globl boot_pml4
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
    .globl boot_pt
boot_pt:    .skip 4 * 4096          /* 4 KiB pages for 0..8 MiB */
    /* Unmapped at boot, so running off the end of the stack faults. */
    .globl boot_stack_guard
boot_stack_guard:
    .skip 4096
    .globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .skip 1024 * 1024
boot_stack_top:
