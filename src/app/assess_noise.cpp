// Placeholder until the noise assessor lands (issue #4).
#include "app/assess.h"

namespace ecomon::app {

core::Result<std::unique_ptr<Assessor>> make_noise_assessor(const AssessOptions&) {
  return core::fail(core::Error{"not_implemented", "ecomon assess noise is not implemented yet"});
}

}  // namespace ecomon::app
