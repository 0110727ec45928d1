// The recorder in the thread and reply composers: camera, screen, screen + camera or audio,
// or an uploaded file. Pieces go to the server while the person records (upload.js), so
// posting only waits for the last second of media. Loaded as a module: each composer's
// recorder is a Recorder (composer.js), built from the modules beside it.

import { Recorder } from "./composer.js";

for (const root of document.querySelectorAll("[data-recorder]")) new Recorder(root);
