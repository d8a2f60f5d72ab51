/*
 * Exception entry stubs for vectors 0-31. Each pushes a uniform frame
 * (dummy error code where the CPU pushes none, then the vector number and all
 * general registers) and calls exception_dispatch(frame), which never returns.
 */
    .text
    .code64

.macro EXCEPTION_STUB vector
exception_stub_\vector:
    /* Vectors 8, 10-14, 17, 21, 29 and 30 come with an error code from the CPU. */
    .if (\vector != 8) && !((\vector >= 10) && (\vector <= 14)) && (\vector != 17) && (\vector != 21) && (\vector != 29) && (\vector != 30)
    push $0
    .endif
    push $\vector
    jmp exception_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    EXCEPTION_STUB \v
.endr

exception_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    and $-16, %rsp
    cld
    call exception_dispatch
1:  cli
    hlt
    jmp 1b

    .section .rodata
    .balign 8
    .globl exception_stub_table
exception_stub_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exception_stub_\v
.endr
