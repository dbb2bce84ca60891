// The in-memory Store: the reference implementation of the contract, for tests and tools. Nothing
// survives the process; "durable" here means only "visible to readers".
//
// Thread-safety: as Store: one writer at a time, readers concurrent with it (a shared mutex; a
// reader sees whole batches). Errors: only `bad_value` (store.h).
#pragma once

#include <memory>

#include "storage/store.h"

namespace ecomon::storage {

std::unique_ptr<Store> make_memory_store();

}  // namespace ecomon::storage
