// Small behaviours every page shares, kept out of the HTML so a strict Content-Security-Policy holds.
"use strict";

