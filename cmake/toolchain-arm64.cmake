# 64-bit ARM (Debian arm64): cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm64.cmake
# Use scripts/cross arm64, which makes the sysroot first. See cmake/KnaCrossToolchain.cmake.
set(KNA_CROSS_ARCH arm64)
set(KNA_CROSS_TRIPLET aarch64-linux-gnu)
set(KNA_CROSS_PROCESSOR aarch64)
set(KNA_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/KnaCrossToolchain.cmake)
