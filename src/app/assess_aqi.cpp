// Placeholder, replaced in the next commit.
#include "app/assess.h"

namespace ecomon::app {

core::Result<std::unique_ptr<Assessor>> make_aqi_assessor(const AssessOptions&) {
  return core::fail(core::Error{"not_implemented", "ecomon assess aqi is not implemented yet"});
}

}  // namespace ecomon::app
