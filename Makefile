# Bulwark: the two commands are `make demo` and `make test`.
# Each target first runs scripts/setup.sh, which installs missing Debian
# packages and brings the mbedTLS source (from Debian's source package).
#   make demo    build everything; on QEMU: hello, a crash, an update over the
#                link, then the cloud (broker + bulwarkd, a device online, its
#                logs and decoded crash), then over-the-air updates (v1, v2, a
#                crashing v3 rolled back); freertos-demo with FREERTOS_KERNEL_PATH
#   make test    build every target and run the whole suite (host + QEMU + sizes)
#   make bench   print instruction counts and image sizes (no pass/fail)
#   make stress-tests  every QEMU test STRESS_RUNS times (default 20; STRESS_TESTS
#                a ctest regex to narrow it), naming any test that ever failed
#   make soak    power-cut soak: SOAK_RUNS (default 200) random kill -9s of QEMU
#                during local delivery and install (tests/qemu/kill_test.py), then
#                SOAK_OTA_KILLS (default 40) during over-the-air downloads and
#                installs through the cloud (tests/qemu/run_ota_test.py --scenario kill)

BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
CTEST_PARALLEL ?= $(JOBS)
CROSS := -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/toolchain-arm-none-eabi.cmake
EMU := emu/bulwark-emu
# FreeRTOS apps and tests build only with a FreeRTOS-Kernel checkout (README:
# Getting FreeRTOS); always passed, so an unset variable skips them again.
FREERTOS := -DFREERTOS_KERNEL_PATH=$(FREERTOS_KERNEL_PATH)
QEMU_BUILD := $(BUILD)/qemu-an505

.PHONY: all setup host qemu-an505 stm32u585 demo test bench soak stress-tests clean

all: host qemu-an505 stm32u585

setup:
	@scripts/setup.sh

host: setup
	@cmake -S . -B $(BUILD)/host -DBULWARK_TARGET=host >/dev/null
	@cmake --build $(BUILD)/host -j$(JOBS)

qemu-an505: setup
	@cmake -S . -B $(BUILD)/qemu-an505 -DBULWARK_TARGET=qemu-an505 $(CROSS) $(FREERTOS) \
	    -DBW_HOST_TOOLS_DIR=$(abspath $(BUILD))/host >/dev/null
	@cmake --build $(BUILD)/qemu-an505 -j$(JOBS)

stm32u585: setup
	@cmake -S . -B $(BUILD)/stm32u585 -DBULWARK_TARGET=stm32u585 $(CROSS) $(FREERTOS) \
	    -DBW_HOST_TOOLS_DIR=$(abspath $(BUILD))/host >/dev/null
	@cmake --build $(BUILD)/stm32u585 -j$(JOBS)

demo: host qemu-an505
	@scripts/demo.sh $(BUILD)
ifneq ($(strip $(FREERTOS_KERNEL_PATH)),)
	@echo; echo "== 7. freertos-demo (FreeRTOS from $(FREERTOS_KERNEL_PATH)) =="
	@$(EMU) image create --force --out $(QEMU_BUILD)/demo-freertos-flash.bin \
	    --kernel $(QEMU_BUILD)/kernel/bulwark-kernel.signed --app $(QEMU_BUILD)/apps/freertos-demo/freertos-demo.elf
	@$(EMU) run --image $(QEMU_BUILD)/demo-freertos-flash.bin --boot $(QEMU_BUILD)/boot/bulwark-boot.elf --timeout 30
else
	@echo; echo "== 7. freertos-demo skipped: set FREERTOS_KERNEL_PATH (README: Getting FreeRTOS) =="
endif

test: all
	@ctest --test-dir $(BUILD)/host --output-on-failure -j$(CTEST_PARALLEL)
	@ctest --test-dir $(BUILD)/qemu-an505 --output-on-failure -j$(CTEST_PARALLEL)
	@ctest --test-dir $(BUILD)/stm32u585 --output-on-failure -j$(CTEST_PARALLEL)
	@scripts/size-report.sh $(BUILD)

bench: host qemu-an505 stm32u585
	@scripts/bench.sh $(BUILD)

stress-tests: host qemu-an505
	@CTEST_PARALLEL=$(CTEST_PARALLEL) scripts/stress-tests.sh $(BUILD)

SOAK_RUNS ?= 200
SOAK_OTA_KILLS ?= 40
CLOUD_APPS = $(QEMU_BUILD)/apps/cloud-demo
soak: host qemu-an505
	@tests/qemu/kill_test.py --runs $(SOAK_RUNS) --bulwark $(BUILD)/host/cli/bulwark --emu $(EMU) \
	    --boot $(QEMU_BUILD)/boot/bulwark-boot.elf --kernel $(QEMU_BUILD)/kernel/bulwark-kernel.signed \
	    --app-a $(QEMU_BUILD)/tests/qemu/apps/qt-update-a.bin \
	    --app-b $(QEMU_BUILD)/tests/qemu/apps/qt-update-b.bin --workdir $(BUILD)/soak
	@tests/qemu/run_ota_test.py --scenario kill --kills $(SOAK_OTA_KILLS) --bulwark $(BUILD)/host/cli/bulwark \
	    --emu $(EMU) --boot $(QEMU_BUILD)/boot/bulwark-boot.elf --kernel $(QEMU_BUILD)/kernel/bulwark-kernel.signed \
	    --app-a $(QEMU_BUILD)/tests/qemu/apps/qt-update-a.bin --app-b $(QEMU_BUILD)/tests/qemu/apps/qt-update-b.bin \
	    --app $(CLOUD_APPS)/cloud-demo.elf --app-v2 $(CLOUD_APPS)/cloud-demo-v2.elf \
	    --app-v3 $(CLOUD_APPS)/cloud-demo-v3-crash.elf --app-stubborn $(CLOUD_APPS)/cloud-demo-stubborn.elf \
	    --bulwarkd $(BUILD)/host/cloud/bulwarkd/bulwarkd --plugin $(BUILD)/host/cloud/broker/bw_registry_plugin.so \
	    --modem $(BUILD)/host/emu/modem/bulwark-modem --workdir $(BUILD)/soak-ota

clean:
	rm -rf $(BUILD)
