#!/usr/bin/env node
// Package bin shim: runs the TypeScript entry point through tsx, so `npx regionwatch` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('./regionwatch.ts');
