/** Entry of the console page (index.html). */
import './components/tp-console.ts';
