# 32-bit ARM (armv7 hard float, Debian armhf): cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake
# Use scripts/cross armhf, which makes the sysroot first. See cmake/KnaCrossToolchain.cmake.
set(KNA_CROSS_ARCH armhf)
set(KNA_CROSS_TRIPLET arm-linux-gnueabihf)
set(KNA_CROSS_PROCESSOR arm)
set(KNA_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/KnaCrossToolchain.cmake)
