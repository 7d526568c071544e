#include <yaml.h>

int hwbt_yaml_major(void) {
    int major, minor, patch;
    yaml_get_version(&major, &minor, &patch);
    return major;
}
