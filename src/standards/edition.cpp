#include "standards/edition.h"
