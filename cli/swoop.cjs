#!/usr/bin/env node
// The `swoop` bin (package.json): runs cli/main.ts through tsx's CommonJS register API, so a
// fresh clone works after `npm ci` with no build step. tsx only strips types; `npm test`
// type-checks cli/ with the rest of the project.
'use strict';
require('tsx/cjs/api').register();
require('./main.ts').run(process.argv.slice(2));
