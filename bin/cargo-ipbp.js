#!/usr/bin/env node
// `cargo ipbp run …`: cargo runs `cargo-ipbp ipbp run …` for a subcommand it does not know.
import { main } from '../dist/src/cli/main.js';

const args = process.argv.slice(2);
await main(args[0] === 'ipbp' ? args.slice(1) : args);
