int hwb_helper_value(void) { return 7; }
