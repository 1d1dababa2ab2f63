#include <stdio.h>

int main(void) {
    unsigned long long a = 0, b = 1;
    printf("The first 20 Fibonacci numbers:\n");
    for (int i = 0; i < 20; i++) {
        printf("%llu%s", a, i < 19 ? " " : "\n");
        unsigned long long next = a + b;
        a = b;
        b = next;
    }
    return 0;
}
