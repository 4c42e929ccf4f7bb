# Shared part of the ARM toolchain files (cmake/toolchain-armhf.cmake, cmake/toolchain-arm64.cmake):
# Debian's cross compiler, a Debian root filesystem of the target architecture as the sysroot
# (made by scripts/cross with mmdebstrap: every library comes from Debian's archive), and
# qemu-user to run what was built. The including file sets KNA_CROSS_ARCH, KNA_CROSS_TRIPLET,
# KNA_CROSS_PROCESSOR and KNA_CROSS_QEMU.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${KNA_CROSS_PROCESSOR})

# The sysroot: -DKNA_SYSROOT=DIR, else $KNA_SYSROOT, else scripts/cross's cache.
if(NOT KNA_SYSROOT)
  if(DEFINED ENV{KNA_SYSROOT})
    set(KNA_SYSROOT $ENV{KNA_SYSROOT})
  else()
    set(KNA_SYSROOT /var/cache/kube-node-agent/sysroot-${KNA_CROSS_ARCH})
  endif()
endif()
set(KNA_SYSROOT ${KNA_SYSROOT} CACHE PATH "Root filesystem of the target architecture")
if(NOT EXISTS ${KNA_SYSROOT}/usr/include/${KNA_CROSS_TRIPLET})
  message(FATAL_ERROR "No ${KNA_CROSS_ARCH} sysroot at ${KNA_SYSROOT}: make it with "
                      "`scripts/cross ${KNA_CROSS_ARCH}` or pass -DKNA_SYSROOT=DIR")
endif()
# try_compile projects read this file again without the cache: hand them the sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KNA_SYSROOT)

set(CMAKE_SYSROOT ${KNA_SYSROOT})
set(CMAKE_C_COMPILER ${KNA_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${KNA_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${KNA_CROSS_TRIPLET})

# Programs are the host's; libraries, headers and CMake packages only the target's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Without these, pkg-config finds the host's .pc files and the build silently links the x86-64
# libcpp-httplib and libsystemd.
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${KNA_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR}
    "${KNA_SYSROOT}/usr/lib/${KNA_CROSS_TRIPLET}/pkgconfig:${KNA_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ctest (and gtest_discover_tests) run the target's programs through qemu-user, with the
# sysroot's loader and libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR ${KNA_CROSS_QEMU} -L ${KNA_SYSROOT})
