/* Can the C compiler check the wasm32-like ILP32 layout (see CMakeLists.txt)? */
#include <stddef.h>
#include <stdint.h>
_Static_assert(sizeof(void*) == 4 && _Alignof(int64_t) == 8, "ILP32 with 8-byte int64");
