# Every library comes from Debian packages (scripts/install-deps installs them); nothing is
# vendored or downloaded.
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG COMPONENTS filesystem)
find_package(nlohmann_json 3.11 REQUIRED CONFIG)
find_package(spdlog 1.10 REQUIRED CONFIG)
find_package(CLI11 2.1 REQUIRED CONFIG)
find_package(prometheus-cpp REQUIRED CONFIG)
# libcrypto for the join's trust (src/clients/join_trust.cpp): already linked through
# cpp-httplib, whose -dev package depends on libssl-dev.
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)
find_package(PkgConfig REQUIRED)
# cpp-httplib has no CMake package; its pkg-config flags must be used (class layout depends on them).
pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib>=0.11)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET GLOBAL libsystemd)
if(KNA_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
