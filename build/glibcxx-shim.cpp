// Provides std::ios_base_library_init() (GLIBCXX_3.4.32, GCC 13) for older libstdc++.
#include <ios>
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
