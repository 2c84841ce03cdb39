// Deliberately empty: `deno run` of this file is the floor a subprocess child
// cannot beat (runtime start, module load, exit).
