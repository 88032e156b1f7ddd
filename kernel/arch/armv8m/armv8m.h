/*
 * Armv8-M Mainline system registers used by the secure kernel, with the
 * security extension: addresses in 0xE000xxxx are the secure bank (the
 * kernel's own view), 0xE002xxxx the non-secure alias (the app's bank).
 * Only what the kernel touches is named here.
 */
#ifndef ARMV8M_H
#define ARMV8M_H

#include <stdint.h>

#define ARMV8M_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System control block, secure bank */
#define SCB_ICSR      ARMV8M_REG(0xE000ED04u)
#define SCB_VTOR      ARMV8M_REG(0xE000ED08u)
#define SCB_AIRCR     ARMV8M_REG(0xE000ED0Cu)
#define SCB_SCR       ARMV8M_REG(0xE000ED10u)
#define SCB_CCR       ARMV8M_REG(0xE000ED14u)
#define SCB_SHPR1     ARMV8M_REG(0xE000ED18u)
#define SCB_SHPR2     ARMV8M_REG(0xE000ED1Cu)
#define SCB_SHPR3     ARMV8M_REG(0xE000ED20u)
#define SCB_SHCSR     ARMV8M_REG(0xE000ED24u)
#define SCB_CFSR      ARMV8M_REG(0xE000ED28u)
#define SCB_HFSR      ARMV8M_REG(0xE000ED2Cu)
#define SCB_MMFAR     ARMV8M_REG(0xE000ED34u)
#define SCB_BFAR      ARMV8M_REG(0xE000ED38u)
#define SCB_CPACR     ARMV8M_REG(0xE000ED88u)
#define SCB_NSACR     ARMV8M_REG(0xE000ED8Cu)
#define SCB_SFSR      ARMV8M_REG(0xE000EDE4u)
#define SCB_SFAR      ARMV8M_REG(0xE000EDE8u)
#define FPU_FPCCR     ARMV8M_REG(0xE000EF34u)

/* SysTick, secure bank: the kernel's supervision tick */
#define SYST_CSR      ARMV8M_REG(0xE000E010u)
#define SYST_RVR      ARMV8M_REG(0xE000E014u)
#define SYST_CVR      ARMV8M_REG(0xE000E018u)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)   /* the processor clock */
#define SYST_RVR_MAX       0x00FFFFFFu

/* System control block, non-secure bank (the app's) */
#define SCB_NS_ICSR   ARMV8M_REG(0xE002ED04u)
#define SCB_NS_VTOR   ARMV8M_REG(0xE002ED08u)
#define SCB_NS_SHCSR  ARMV8M_REG(0xE002ED24u)
#define SCB_NS_CFSR   ARMV8M_REG(0xE002ED28u)
#define SCB_NS_HFSR   ARMV8M_REG(0xE002ED2Cu)
#define SCB_NS_MMFAR  ARMV8M_REG(0xE002ED34u)
#define SCB_NS_CPACR  ARMV8M_REG(0xE002ED88u)
#define SCB_NS_SHPR1  ARMV8M_REG(0xE002ED18u)
#define SCB_NS_SHPR2  ARMV8M_REG(0xE002ED1Cu)
#define SCB_NS_SHPR3  ARMV8M_REG(0xE002ED20u)
#define MPU_NS_CTRL   ARMV8M_REG(0xE002ED94u)
#define FPU_NS_FPCCR  ARMV8M_REG(0xE002EF34u)

#define ICSR_PENDSVSET   (1u << 28)
#define ICSR_PENDSVCLR   (1u << 27)
#define ICSR_PENDSTSET   (1u << 26)
#define SHCSR_PENDSVACT  (1u << 10)
#define SHCSR_SYSTICKACT (1u << 11)
#define SHCSR_SVCALLACT  (1u << 7)
#define AIRCR_VECTKEY    (0x05FAu << 16)
#define AIRCR_PRIS       (1u << 14)
#define AIRCR_BFHFNMINS  (1u << 13)
#define AIRCR_SYSRESETREQS (1u << 3)
#define AIRCR_SYSRESETREQ  (1u << 2)
#define SHCSR_SECUREFAULTENA (1u << 19)
#define SHCSR_USGFAULTENA    (1u << 18)
#define SHCSR_BUSFAULTENA    (1u << 17)
#define SHCSR_MEMFAULTENA    (1u << 16)
/* Active bits of the banked system exceptions (cleared when the app is torn down). */
#define SHCSR_ACTIVE_MASK    0x0000FD8Fu
#define FPCCR_LSPACT         (1u << 0)

/* Security attribution unit */
#define SAU_CTRL      ARMV8M_REG(0xE000EDD0u)
#define SAU_TYPE      ARMV8M_REG(0xE000EDD4u)
#define SAU_RNR       ARMV8M_REG(0xE000EDD8u)
#define SAU_RBAR      ARMV8M_REG(0xE000EDDCu)
#define SAU_RLAR      ARMV8M_REG(0xE000EDE0u)
#define SAU_CTRL_ENABLE  (1u << 0)
#define SAU_RLAR_ENABLE  (1u << 0)
#define SAU_RLAR_NSC     (1u << 1)

/* NVIC (one bank; ITNS routes each line to the app) */
#define NVIC_ISER(n)  ARMV8M_REG(0xE000E100u + 4u * (n))
#define NVIC_ICER(n)  ARMV8M_REG(0xE000E180u + 4u * (n))
#define NVIC_ISPR(n)  ARMV8M_REG(0xE000E200u + 4u * (n))
#define NVIC_ICPR(n)  ARMV8M_REG(0xE000E280u + 4u * (n))
#define NVIC_IABR(n)  ARMV8M_REG(0xE000E300u + 4u * (n))
#define NVIC_ITNS(n)  ARMV8M_REG(0xE000E380u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (irq)))

/* EXC_RETURN values: from a secure exception to the app's thread or handler
 * mode on MSP_NS; from an app exception to the app's thread or handler mode
 * (standard frames, no FP state). */
#define EXC_RETURN_NS_THREAD_MSP 0xFFFFFFB9u
#define EXC_RETURN_NS_HANDLER    0xFFFFFFB1u
#define EXC_RETURN_APP_TO_THREAD 0xFFFFFFB8u
#define EXC_RETURN_APP_TO_HANDLER 0xFFFFFFB0u
/* EXC_RETURN bit: the exception frame is on a secure stack. */
#define EXC_RETURN_S             (1u << 6)
#define EXC_RETURN_MODE_THREAD   (1u << 3)
#define EXC_RETURN_FTYPE         (1u << 4)   /* 1: the frame has no FP state */

static inline uint32_t armv8m_ipsr(void)
{
    uint32_t v;
    __asm volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

static inline uint32_t armv8m_primask_save_disable(void)
{
    uint32_t v;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(v) : : "memory");
    return v;
}

static inline void armv8m_primask_restore(uint32_t v)
{
    __asm volatile("msr primask, %0" : : "r"(v) : "memory");
}

static inline void armv8m_dsb_isb(void)
{
    __asm volatile("dsb\n isb" : : : "memory");
}

#endif
